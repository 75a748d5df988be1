"""Mail delivered end to end: SMTP and sendmail in, qmgr, and the local and
virtual agents out, through aliases, extensions, virtual aliases and
.forward; bounces and delay warnings back to the sender; the queue tools
on deferred mail; and the log read by Debian's pflogsumm.

The mailboxes live in a temporary directory any user may enter, because
as root the agents write as the mailbox owner (virtual_uid_maps) or with
default_privs (aliases owned by root).
"""
import json
import os
import pathlib
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest

from conftest import SBIN, run
from instance import free_port, wait_until

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
showq unix n - n - - showq
local unix - n n - - local
virtual unix - n n - - virtual
error unix - - n - - error
retry unix - - n - - error
"""


@pytest.fixture
def boxes():
    path = pathlib.Path(tempfile.mkdtemp(prefix="postern-boxes-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def mta(instance, boxes):
    port = free_port()
    owner = pwd.getpwnam(instance.mail_owner)
    for sub in ("local", "v.test"):
        (boxes / sub).mkdir()
        os.chmod(boxes / sub, 0o777)
    (instance.etc / "aliases").write_text(
        f"team: {boxes}/local/team/\n"
        f"log: {boxes}/local/log.mbox\n"
        "both: team, log\n"
        "postmaster: team\n")
    (instance.etc / "vmailbox").write_text(
        "alice@v.test v.test/alice/\n"
        "bob@v.test v.test/bob\n")
    (instance.etc / "valias").write_text(
        "sales@v.test alice@v.test, team@localhost\n")
    instance.write_main(
        mydestination="localhost", myorigin="localhost",
        alias_maps=f"hash:{instance.etc}/aliases", local_recipient_maps="",
        recipient_delimiter="+", mynetworks="127.0.0.0/8",
        virtual_mailbox_domains="v.test",
        virtual_mailbox_maps=f"texthash:{instance.etc}/vmailbox",
        virtual_alias_maps=f"texthash:{instance.etc}/valias",
        virtual_mailbox_base=str(boxes),
        virtual_uid_maps=f"static:{owner.pw_uid}",
        virtual_gid_maps=f"static:{owner.pw_gid}",
        virtual_minimum_uid="0",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s", transport_retry_time="1s")
    instance.write_master(MASTER_CF.format(port=port))
    run("postalias", "-c", instance.etc, f"hash:{instance.etc}/aliases",
        check=True)
    instance.start()
    assert wait_until(lambda: _can_connect(port)), instance.log()
    instance.port = port
    instance.boxes = boxes
    return instance


def _can_connect(port):
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
        return True
    except OSError:
        return False


def smtp_send(inst, sender, rcpts, subject, extra=""):
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=30) as client:
        client.sendmail(sender, rcpts,
                        f"Subject: {subject}\r\n{extra}\r\nbody of {subject}\r\n")


def sendmail_send(inst, sender, rcpts, text):
    env = dict(os.environ, MAIL_CONFIG=str(inst.etc))
    proc = subprocess.run([str(SBIN / "sendmail"), "-f", sender, *rcpts],
                          input=text, text=True, env=env,
                          capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def maildir_texts(path):
    texts = []
    for sub in ("new", "cur"):
        if (path / sub).is_dir():
            texts += [(path / sub / n).read_text(errors="replace")
                      for n in sorted(os.listdir(path / sub))]
    return texts


def wait_for_mail(path, subject, timeout=20):
    def found():
        if path.is_dir():
            return [t for t in maildir_texts(path) if subject in t]
        if path.is_file():
            return subject in path.read_text(errors="replace")
        return False
    assert wait_until(found, timeout), f"{subject} not in {path}"
    return found()


def test_smtp_to_local_aliases_and_extension(mta):
    smtp_send(mta, "s@example.org", ["both@localhost"], "to-both")
    smtp_send(mta, "s@example.org", ["team+sales@localhost"], "to-ext")
    team = mta.boxes / "local" / "team"
    [text] = wait_for_mail(team, "to-both")
    assert "Delivered-To: both@localhost" in text
    assert text.startswith("Return-Path: <s@example.org>")
    assert wait_for_mail(mta.boxes / "local" / "log.mbox", "to-both")
    mbox = (mta.boxes / "local" / "log.mbox").read_text()
    assert mbox.startswith("From s@example.org ")
    [text] = wait_for_mail(team, "to-ext")
    assert "Delivered-To: team+sales@localhost" in text
    assert re.search(r"to=<team\+sales@localhost>, relay=local, delay=",
                     mta.log())


def test_sendmail_to_virtual_and_virtual_alias(mta):
    sendmail_send(mta, "s@example.org", ["sales@v.test", "bob@v.test"],
                  "Subject: via-sendmail\n\nhello\n")
    [text] = wait_for_mail(mta.boxes / "v.test" / "alice", "via-sendmail")
    assert "X-Original-To: sales@v.test" in text
    assert wait_for_mail(mta.boxes / "local" / "team", "via-sendmail")
    assert wait_for_mail(mta.boxes / "v.test" / "bob", "via-sendmail")
    if os.geteuid() == 0:
        owner = pwd.getpwnam(mta.mail_owner).pw_uid
        new = mta.boxes / "v.test" / "alice" / "new"
        assert all(p.stat().st_uid == owner for p in new.iterdir())
    assert re.search(r"relay=virtual, .*status=sent \(delivered to maildir\)",
                     mta.log())
    assert re.search(r"relay=virtual, .*status=sent \(delivered to mailbox\)",
                     mta.log())


def test_unknown_recipient_bounces_to_sender(mta):
    # Local submission: smtpd would refuse the unknown user at RCPT.
    sendmail_send(mta, "alice@v.test", ["nobody@v.test", "team@localhost"],
                  "Subject: will-bounce\n"
                  "Message-ID: <bounce-me@example.org>\n\nbody\n")
    assert wait_for_mail(mta.boxes / "local" / "team", "will-bounce")
    [dsn] = wait_for_mail(mta.boxes / "v.test" / "alice",
                          "Undelivered Mail Returned to Sender")
    assert "Content-Type: multipart/report; report-type=delivery-status" \
        in dsn
    assert re.search(r"Final-Recipient: rfc822; ?nobody@v.test", dsn)
    assert "Action: failed" in dsn
    assert "Status: 5.1.1" in dsn
    assert "Return-Path: <>" in dsn
    assert re.search(r"status=bounced \(unknown user: \"nobody@v.test\"\)",
                     mta.log())


def test_deferred_mail_delay_warning_and_queue_tools(mta):
    # A destination whose transport always defers ("retry").
    (mta.etc / "transport").write_text("slow.test retry:4.4.1 try later\n")
    mta.write_main(transport_maps=f"texthash:{mta.etc}/transport",
                   delay_warning_time="1s")
    assert mta.postfix("reload").returncode == 0
    time.sleep(1)
    smtp_send(mta, "alice@v.test", ["someone@slow.test"], "stuck")
    [warn] = wait_for_mail(mta.boxes / "v.test" / "alice",
                           "Delayed Mail (still being retried)", timeout=30)
    assert "Action: delayed" in warn

    def listed():
        out = run("postqueue", "-c", mta.etc, "-j").stdout
        return [json.loads(line) for line in out.splitlines()]
    assert wait_until(lambda: listed() and
                      listed()[0]["queue_name"] == "deferred")
    entry = listed()[0]
    assert entry["recipients"][0]["address"] == "someone@slow.test"
    assert "try later" in entry["recipients"][0]["delay_reason"]
    queue_id = entry["queue_id"]
    # Hold, release, and delete it with the tools.
    out = run("postsuper", "-c", mta.etc, "-h", queue_id)
    assert "Placed on hold: 1 message" in out.stderr
    assert listed()[0]["queue_name"] == "hold"
    out = run("postsuper", "-c", mta.etc, "-H", queue_id)
    assert "Released from hold: 1 message" in out.stderr
    out = run("postsuper", "-c", mta.etc, "-d", queue_id)
    assert "Deleted: 1 message" in out.stderr
    assert wait_until(lambda: listed() == [])


def test_pflogsumm_counts(mta):
    if shutil.which("pflogsumm") is None:
        pytest.fail("pflogsumm is not installed (scripts/deps.sh adds it)")
    for i in range(3):
        smtp_send(mta, "s@example.org", ["team@localhost", "bob@v.test"],
                  f"count-{i}")
    for i in range(3):
        wait_for_mail(mta.boxes / "local" / "team", f"count-{i}")
        wait_for_mail(mta.boxes / "v.test" / "bob", f"count-{i}")
    assert wait_until(lambda: mta.log().count(": removed") >= 3)
    lines = [line for line in mta.log().splitlines()
             if "status=" in line and " to=<" in line]
    for line in lines:
        for field in ("relay=", "delay=", "delays=", "dsn=", "status="):
            assert field in line, line
    out = subprocess.run(["pflogsumm", str(mta.maillog)], text=True,
                         capture_output=True, timeout=60).stdout
    received = re.search(r"^\s*(\d+)\s+received", out, re.M)
    delivered = re.search(r"^\s*(\d+)\s+delivered", out, re.M)
    assert received and delivered, out
    assert int(received[1]) == 3, out
    assert int(delivered[1]) == 6, out
