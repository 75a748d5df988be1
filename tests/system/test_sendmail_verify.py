"""sendmail -bv (address verification) and sendmail -v (a delivery report).

-bv posts a probe with trace_flags=512: every agent resolves its recipient
as for a delivery and stops where it would deliver, the log says
status=deliverable or status=undeliverable, nothing reaches a mailbox or a
remote server's DATA, and the sender gets a "Mail Delivery Status Report".
A single -v (trace_flags=1024) delivers as usual and reports every outcome.
Facts recorded from Debian's Postfix 3.7:
    $ sendmail -bv root nosuchuser remote@example.org
    Mail Delivery Status Report will be mailed to <root>.
    local: ... dsn=2.0.0, status=deliverable (delivers to mailbox)
    smtp:  ... relay=none, ... dsn=4.4.1, status=undeliverable (connect to
           127.0.0.1[127.0.0.1]:1: Connection refused)
    local: ... dsn=5.1.1, status=undeliverable (unknown user: "nosuchuser")
    bounce: ID: sender delivery status notification: NEWID
  the report: Subject: Mail Delivery Status Report; per recipient
  "Action: deliverable" / "Action: undeliverable" and, without a remote
  reply, "Diagnostic-Code: X-Postfix; delivery via local: delivers to
  mailbox"; the probe's content is "From: SENDER", "Subject: probe" and a
  "To:" header naming the recipients; postcat shows
  "named_attribute: trace_flags=512" (-bv) or "=1024" (-v).
"""
import os
import subprocess

import pytest

from conftest import SBIN, run
from instance import wait_until
from test_delivery import MASTER_CF, boxes, maildir_texts  # noqa: F401
from test_smtp import DELIVERY_LINE, Recorder, sink  # noqa: F401

VERIFY_MASTER_CF = MASTER_CF + ("smtp unix - - n - - smtp\n"
                                "discard unix - - n - - discard\n")


@pytest.fixture
def mta(instance, boxes, sink):  # noqa: F811
    """Virtual mailboxes at v.test, an alias to a Maildir, a discard
    domain, and everything else relayed to an aiosmtpd sink that refuses
    bad@remote.test."""
    import pwd

    handler, sink_port = sink(Recorder({
        "bad@remote.test": "550 5.1.1 <bad@remote.test>: User unknown"}))
    owner = pwd.getpwnam(instance.mail_owner)
    for sub in ("local", "v.test"):
        (boxes / sub).mkdir()
        os.chmod(boxes / sub, 0o777)
    (instance.etc / "aliases").write_text(
        f"team: {boxes}/local/team/\n"
        f"log: {boxes}/local/log.mbox\n"
        f"cmd: \"|touch {boxes}/local/ran\"\n"
        "group: log, cmd\n")
    (instance.etc / "vmailbox").write_text("alice@v.test v.test/alice/\n"
                                           "bob@v.test v.test/bob/\n")
    (instance.etc / "transport").write_text("void.test discard:\n")
    instance.write_main(
        mydestination="localhost", myorigin="localhost",
        alias_maps=f"hash:{instance.etc}/aliases", local_recipient_maps="",
        virtual_mailbox_domains="v.test",
        virtual_mailbox_maps=f"texthash:{instance.etc}/vmailbox",
        virtual_mailbox_base=str(boxes),
        virtual_uid_maps=f"static:{owner.pw_uid}",
        virtual_gid_maps=f"static:{owner.pw_gid}",
        virtual_minimum_uid="0",
        transport_maps=f"texthash:{instance.etc}/transport",
        relayhost=f"[127.0.0.1]:{sink_port}",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s")
    instance.write_master(VERIFY_MASTER_CF.format(port=0).replace(
        "127.0.0.1:0 inet n - n - - smtpd\n", ""))
    run("postalias", "-c", instance.etc, f"hash:{instance.etc}/aliases",
        check=True)
    instance.start()
    instance.boxes = boxes
    instance.handler = handler
    return instance


def sendmail(inst, *args, text=""):
    env = dict(os.environ, MAIL_CONFIG=str(inst.etc))
    return subprocess.run([str(SBIN / "sendmail"), *args], input=text,
                          text=True, env=env, capture_output=True,
                          timeout=30)


def outcomes(inst):
    return {m["to"]: m for m in DELIVERY_LINE.finditer(inst.log())}


def wait_report(inst, box, subject="Mail Delivery Status Report"):
    def found():
        return [t for t in maildir_texts(box) if f"Subject: {subject}" in t]
    assert wait_until(found, 30), inst.log()
    return found()[0]


def test_verify_probes_every_agent_and_delivers_nothing(mta):
    rcpts = ["bob@v.test", "nosuch@v.test", "team@localhost",
             "group@localhost", "ok@remote.test", "bad@remote.test",
             "x@void.test"]
    proc = sendmail(mta, "-f", "alice@v.test", "-bv", *rcpts)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("Mail Delivery Status Report will be mailed to "
                           "<alice@v.test>.\n")
    report = wait_report(mta, mta.boxes / "v.test" / "alice")
    got = outcomes(mta)
    assert got["bob@v.test"]["status"] == "deliverable"
    assert got["bob@v.test"]["reason"] == "delivers to maildir"
    assert got["team@localhost"]["status"] == "deliverable"
    assert got["team@localhost"]["reason"] == "delivers to maildir"
    assert got["log@localhost"]["reason"] == (
        f"delivers to file: {mta.boxes}/local/log.mbox")
    assert got["cmd@localhost"]["reason"] == (
        f"delivers to command: touch {mta.boxes}/local/ran")
    assert got["cmd@localhost"]["status"] == "deliverable"
    assert got["ok@remote.test"]["status"] == "deliverable"
    assert got["ok@remote.test"]["reason"].startswith("250 2.1.5")
    assert got["bad@remote.test"]["status"] == "undeliverable"
    assert got["bad@remote.test"]["dsn"] == "5.1.1"
    assert "said: 550 5.1.1" in got["bad@remote.test"]["reason"]
    assert got["nosuch@v.test"]["status"] == "undeliverable"
    assert got["nosuch@v.test"]["dsn"] == "5.1.1"
    assert got["x@void.test"]["status"] == "deliverable"
    # Nothing was delivered: no mailbox, no DATA at the remote server.
    assert maildir_texts(mta.boxes / "v.test" / "bob") == []
    assert maildir_texts(mta.boxes / "local" / "team") == []
    assert not (mta.boxes / "local" / "log.mbox").exists()
    assert not (mta.boxes / "local" / "ran").exists()
    assert mta.handler.envelopes == []
    assert mta.handler.rcpt_calls == 2
    # The report names every recipient with its verdict.
    assert "Subject: Mail Delivery Status Report" in report
    assert report.count("Action: deliverable") == 6
    assert report.count("Action: undeliverable") == 2
    assert "<bob@v.test>: delivery via virtual: delivers to maildir" in report
    assert ("Diagnostic-Code: X-Postfix; delivery via virtual: delivers to "
            "maildir") in report
    assert "Content-Type: text/rfc822-headers" in report
    assert "Subject: probe" in report
    assert "sender delivery status notification" in mta.log()
    # No bounce for the undeliverable ones, and the probe is gone.
    assert "Undelivered Mail" not in "".join(
        maildir_texts(mta.boxes / "v.test" / "alice"))
    assert wait_until(lambda: "Mail queue is empty" in run(
        "postqueue", "-c", mta.etc, "-p").stdout, 20)


def test_single_v_delivers_and_reports_each_outcome(mta):
    proc = sendmail(mta, "-f", "alice@v.test", "-v", "bob@v.test",
                    "nosuch@v.test", "ok@remote.test",
                    text="Subject: with report\n\nhello\n")
    assert proc.returncode == 0, proc.stderr
    assert "will be mailed to <alice@v.test>" in proc.stdout
    alice = mta.boxes / "v.test" / "alice"
    report = wait_report(mta, alice)
    assert wait_until(lambda: maildir_texts(mta.boxes / "v.test" / "bob"))
    assert [e[1] for e in mta.handler.envelopes] == [["ok@remote.test"]]
    assert report.count("Action: delivered") == 2
    assert report.count("Action: failed") == 1
    # The failure also bounces, as without -v.
    wait_report(mta, alice, "Undelivered Mail Returned to Sender")
    got = outcomes(mta)
    assert got["bob@v.test"]["status"] == "sent"
    assert got["nosuch@v.test"]["status"] == "bounced"


def test_trace_flags_in_the_queue_file(instance):
    """Without pickup the probe stays in maildrop/ for postcat to show."""
    instance.write_main()
    instance.write_master("")
    instance.start()
    proc = sendmail(instance, "-f", "a@example.org", "-bv", "x@example.org",
                    "y@example.org")
    assert proc.returncode == 0, proc.stderr
    [name] = os.listdir(instance.queue / "maildrop")
    shown = run("postcat", "-c", instance.etc,
                str(instance.queue / "maildrop" / name)).stdout
    assert "named_attribute: trace_flags=512" in shown
    assert "From: a@example.org\nSubject: probe\nTo: x@example.org,\n" \
           "\ty@example.org\n" in shown
    proc = sendmail(instance, "-v", "x@example.org", text="hi\n")
    assert proc.returncode == 0, proc.stderr
    shown = run("postcat", "-c", instance.etc, "-e",
                *[str(instance.queue / "maildrop" / n)
                  for n in os.listdir(instance.queue / "maildrop")
                  if n != name]).stdout
    assert "named_attribute: trace_flags=1024" in shown


def test_postdrop_keeps_no_other_attribute(instance):
    """A local user may ask for a report, and nothing else: postdrop drops
    any other attribute record and a trace_flags value with unknown bits."""
    from postern_proto import record

    instance.write_main()
    instance.write_master("")
    instance.start()
    stream = (record("S", "a@example.org") +
              record("A", "trace_flags=512") +
              record("A", "trace_flags=4096") +
              record("A", "content_filter=smtp:[evil]:25") +
              record("R", "x@example.org") + record("M", "") +
              record("N", "hi") + record("X", "") + record("E", ""))
    env = dict(os.environ, MAIL_CONFIG=str(instance.etc))
    proc = subprocess.run([str(SBIN / "postdrop"), "-r"], input=stream,
                          env=env, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    [name] = os.listdir(instance.queue / "maildrop")
    shown = run("postcat", "-c", instance.etc, "-e",
                str(instance.queue / "maildrop" / name)).stdout
    assert shown.count("named_attribute:") == 1
    assert "named_attribute: trace_flags=512" in shown
    assert b"ignoring attribute record: trace_flags=4096" in proc.stderr
    assert b"ignoring attribute record: content_filter" in proc.stderr
