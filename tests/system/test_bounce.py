"""The bounce daemon end to end: notices built from per-message logs.

Each test starts an instance with cleanup and bounce (no qmgr), submits a
message through cleanup, moves it into active/ as qmgr would, writes
bounce/defer/trace log entries in the msg_log.h format, and sends one
request over private/bounce with the small client below. The notice
cleanup queues in incoming/ is read with build's postcat. Facts from
Postfix 3.7: the subjects, the From: line, the log lines
"ID: sender non-delivery notification: NEWID", "... sender delay
notification: ...", "... sender delivery status notification: ...",
"ID: from=<SENDER>, status=expired, returned to sender", and
notify_classes = resource, software by default (no 2bounce).
"""
import os
import re
import socket
import time

import pytest

from conftest import run
from postern_proto import Reader, encode_attrs, CleanupClient
from instance import queue_file_paths

MASTER_CF = ("cleanup unix n - n - 0 cleanup\n"
             "bounce unix - - n - 0 bounce\n")
ENV = {"TZ": "UTC"}
SENDER = "alice@example.org"
NOTIFY_NEVER, NOTIFY_SUCCESS, NOTIFY_FAILURE, NOTIFY_DELAY = 1, 2, 4, 8


def bounce_request(path, op, queue_name, queue_id, timeout=30):
    """One request to the bounce service; returns the reply dict."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    try:
        reader = Reader(sock)
        greeting = reader.attrs()
        assert greeting == {"protocol": "bounce", "version": 1}, greeting
        sock.sendall(encode_attrs({"op": op, "queue_name": queue_name,
                                   "queue_id": queue_id}))
        return reader.attrs()
    finally:
        sock.close()


def start(inst):
    inst.start()
    for name in ("public/cleanup", "private/bounce"):
        sock = inst.queue / name
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline, inst.log()
            time.sleep(0.05)


def restart(inst, **params):
    """Stop, change main.cf, start: new daemons see the new values."""
    inst.stop()
    inst.write_main(**params)
    start(inst)


@pytest.fixture
def bounce(instance):
    instance.write_master(MASTER_CF)
    start(instance)
    return instance


def owner_ids(inst):
    st = os.stat(inst.queue / "active")
    return st.st_uid, st.st_gid


def submit_active(inst, sender=SENDER, rcpts=(("bob@example.net", 0),),
                  text="Subject: hello\nMessage-ID: <m1@example.org>\n\n"
                       "the body\n", envid=None, ret=None):
    """A message through cleanup, then moved into active/."""
    client = CleanupClient(inst.queue / "public" / "cleanup")
    try:
        client.send_flags(1)
        client.rec("T", "1795370734 0")
        client.rec("S", sender)
        if envid is not None:
            client.rec("i", envid)
        if ret is not None:
            client.rec("<", str(ret))
        for rcpt, notify in rcpts:
            client.rec("O", rcpt)
            if notify:
                client.rec("n", str(notify))
            client.rec("R", rcpt)
        client.content(text)
        reply = client.reply()
        queue_id = client.queue_id
    finally:
        client.close()
    assert reply["status"] == 0, reply
    os.rename(inst.queue / "incoming" / queue_id,
              inst.queue / "active" / queue_id)
    return queue_id


def log_path(inst, log, queue_id):
    # hash_queue_names defaults to "deferred, defer", depth 1.
    if log == "defer":
        return inst.queue / log / queue_id[0] / queue_id
    return inst.queue / log / queue_id


def write_log(inst, log, queue_id, entries):
    path = log_path(inst, log, queue_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ""
    for e in entries:
        fields = {"recipient": e["recipient"], "offset": "-1",
                  "notify_flags": str(e.get("notify", 0)),
                  "status": e["status"], "action": e["action"],
                  "reason": e["reason"], "relay": e.get("relay", "none"),
                  "time": "1795370800"}
        for name in ("orig_rcpt", "dsn_orcpt", "dsn_mta", "diag_text"):
            if name in e:
                fields[name] = e[name]
        text += "".join(f"{k}={v}\n" for k, v in fields.items()) + "\n"
    path.write_text(text)
    path.chmod(0o600)
    if os.geteuid() == 0:
        uid, gid = owner_ids(inst)
        os.chown(path, uid, gid)
        os.chown(path.parent, uid, gid)


def failed(rcpt, notify=0, **extra):
    return dict(recipient=rcpt, status="5.1.1", action="failed",
                reason=f'unknown user: "{rcpt.split("@")[0]}"',
                relay="local", notify=notify, **extra)


def delayed(rcpt, notify=0):
    return dict(recipient=rcpt, status="4.4.1", action="delayed",
                reason="connect to mx.example.net[192.0.2.9]:25: "
                       "Connection refused", notify=notify)


def request(inst, op, queue_id, queue_name="active"):
    return bounce_request(inst.queue / "private" / "bounce", op, queue_name,
                          queue_id)


def incoming(inst):
    return sorted(os.path.basename(p)
                  for p in queue_file_paths(inst.queue / "incoming"))


def postcat(inst, queue_id):
    proc = run("postcat", "-c", inst.etc, "-q", queue_id, env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def notice_id(inst, queue_id, what):
    m = inst.wait_for_log(rf"{queue_id}: {what} notification: (\w+)")
    assert m, inst.log()
    return m.group(1)


def test_flush_returns_the_message(bounce):
    queue_id = submit_active(bounce, envid="env-77")
    write_log(bounce, "bounce", queue_id,
              [failed("bob@example.net",
                      dsn_orcpt="rfc822;bob@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    new_id = notice_id(bounce, queue_id, "sender non-delivery")
    assert not log_path(bounce, "bounce", queue_id).exists()
    assert incoming(bounce) == [new_id]
    out = postcat(bounce, new_id)
    assert re.search(r"^sender: $", out, re.M), out
    assert re.search(rf"^recipient: {SENDER}$", out, re.M), out
    for line in (
            "From: MAILER-DAEMON@mail.example.test (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender",
            f"To: {SENDER}",
            "References: <m1@example.org>",
            "Auto-Submitted: auto-replied",
            "Content-Type: multipart/report; report-type=delivery-status;",
            f'\tboundary="{queue_id}.',
            "Content-Description: Notification",
            '<bob@example.net>: unknown user: "bob"',
            "Content-Type: message/delivery-status",
            "Reporting-MTA: dns; mail.example.test",
            "Original-Envelope-Id: env-77",
            f"X-Postfix-Queue-ID: {queue_id}",
            f"X-Postfix-Sender: rfc822; {SENDER}",
            "Arrival-Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)",
            "Final-Recipient: rfc822; bob@example.net",
            "Original-Recipient: rfc822;bob@example.net",
            "Action: failed",
            "Status: 5.1.1",
            'Diagnostic-Code: X-Postfix; unknown user: "bob"',
            "Content-Description: Undelivered Message",
            "Content-Type: message/rfc822",
            "Subject: hello",
            "the body"):
        assert line + "\n" in out or line in out, (line, out)
    assert re.search(rf"^--{queue_id}\.\d+/mail\.example\.test--$", out,
                     re.M), out


def test_ret_hdrs_returns_headers_only(bounce):
    queue_id = submit_active(bounce, ret=2)
    write_log(bounce, "bounce", queue_id, [failed("bob@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    out = postcat(bounce, notice_id(bounce, queue_id, "sender non-delivery"))
    assert "Content-Description: Undelivered Message Headers\n" in out
    assert "Content-Type: text/rfc822-headers\n" in out
    assert "Subject: hello\n" in out
    assert "the body" not in out


def test_bounce_size_limit_returns_headers_only(bounce):
    restart(bounce, bounce_size_limit="100")
    queue_id = submit_active(bounce, text="Subject: big\n\n" +
                             "x" * 200 + "\n")
    write_log(bounce, "bounce", queue_id, [failed("bob@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    out = postcat(bounce, notice_id(bounce, queue_id, "sender non-delivery"))
    assert "Content-Type: text/rfc822-headers\n" in out
    assert "x" * 200 not in out


def test_notify_never_gets_no_notice(bounce):
    queue_id = submit_active(bounce, rcpts=(("bob@example.net",
                                             NOTIFY_NEVER),
                                            ("carol@example.net",
                                             NOTIFY_DELAY)))
    write_log(bounce, "bounce", queue_id,
              [failed("bob@example.net", NOTIFY_NEVER),
               failed("carol@example.net", NOTIFY_DELAY)])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    assert not log_path(bounce, "bounce", queue_id).exists()
    assert incoming(bounce) == []
    assert "non-delivery notification" not in bounce.log()


def test_notify_selects_recipients(bounce):
    queue_id = submit_active(bounce)
    write_log(bounce, "bounce", queue_id,
              [failed("bob@example.net", NOTIFY_NEVER),
               failed("carol@example.net", NOTIFY_FAILURE),
               failed("dave@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    out = postcat(bounce, notice_id(bounce, queue_id, "sender non-delivery"))
    assert "Final-Recipient: rfc822; bob@example.net" not in out
    assert "Final-Recipient: rfc822; carol@example.net" in out
    assert "Final-Recipient: rfc822; dave@example.net" in out


def test_bounce_of_bounce_is_dropped_by_default(bounce):
    queue_id = submit_active(bounce, sender="")
    write_log(bounce, "bounce", queue_id, [failed("bob@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    assert bounce.wait_for_log(rf"{queue_id}: undeliverable bounce "
                               r"discarded"), bounce.log()
    assert not log_path(bounce, "bounce", queue_id).exists()
    assert incoming(bounce) == []


def test_bounce_of_bounce_goes_to_postmaster_with_2bounce(bounce):
    restart(bounce, notify_classes="2bounce")
    queue_id = submit_active(bounce, sender="")
    write_log(bounce, "bounce", queue_id, [failed("bob@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    out = postcat(bounce, notice_id(bounce, queue_id,
                                    "postmaster non-delivery"))
    assert re.search(r"^sender: double-bounce@mail\.example\.test$", out,
                     re.M), out
    assert re.search(r"^recipient: postmaster(@\S+)?$", out, re.M), out
    assert "Subject: Postmaster Copy: Undelivered Mail\n" in out
    assert "Auto-Submitted: auto-generated\n" in out
    # A failed postmaster notice is never bounced again.
    q2 = submit_active(bounce, sender="double-bounce@mail.example.test")
    write_log(bounce, "bounce", q2, [failed("postmaster@example.net")])
    assert request(bounce, "flush", q2) == {"status": 0}
    assert bounce.wait_for_log(rf"{q2}: undeliverable postmaster "
                               r"notification discarded")
    assert len(incoming(bounce)) == 1


def test_postmaster_copy_with_bounce_class(bounce):
    restart(bounce, notify_classes="bounce")
    queue_id = submit_active(bounce)
    write_log(bounce, "bounce", queue_id, [failed("bob@example.net")])
    assert request(bounce, "flush", queue_id) == {"status": 0}
    notice_id(bounce, queue_id, "sender non-delivery")
    out = postcat(bounce, notice_id(bounce, queue_id,
                                    "postmaster non-delivery"))
    assert "Content-Type: text/rfc822-headers\n" in out
    assert "the body" not in out


def test_failure_keeps_the_log(bounce):
    queue_id = submit_active(bounce)
    write_log(bounce, "bounce", queue_id, [failed("bob@example.net")])
    sock = bounce.queue / "public" / "cleanup"
    os.rename(sock, str(sock) + ".away")
    try:
        reply = request(bounce, "flush", queue_id)
    finally:
        os.rename(str(sock) + ".away", sock)
    assert reply["status"] == 1, reply
    assert "connect to public/cleanup" in reply["reason"], reply
    assert log_path(bounce, "bounce", queue_id).exists()
    assert incoming(bounce) == []
    # Missing queue file: the same.
    reply = request(bounce, "flush", queue_id, queue_name="deferred")
    assert reply["status"] == 1 and "open" in reply["reason"], reply
    assert log_path(bounce, "bounce", queue_id).exists()
    # And once cleanup is back, the notice goes out.
    assert request(bounce, "flush", queue_id) == {"status": 0}
    assert not log_path(bounce, "bounce", queue_id).exists()


def test_expire_turns_delays_into_failures(bounce):
    queue_id = submit_active(bounce)
    write_log(bounce, "defer", queue_id, [delayed("bob@example.net")])
    assert request(bounce, "expire", queue_id) == {"status": 0}
    assert bounce.wait_for_log(
        rf"{queue_id}: from=<{SENDER}>, status=expired, returned to "
        r"sender$".replace("$", "\n")), bounce.log()
    out = postcat(bounce, notice_id(bounce, queue_id, "sender non-delivery"))
    assert "Action: failed\nStatus: 4.4.1\n" in out, out
    assert not log_path(bounce, "defer", queue_id).exists()


def test_warn_sends_delay_notice_and_keeps_log(bounce):
    restart(bounce, delay_warning_time="4h")
    queue_id = submit_active(bounce)
    write_log(bounce, "defer", queue_id,
              [delayed("bob@example.net"),
               delayed("carol@example.net", NOTIFY_FAILURE),
               delayed("dave@example.net", NOTIFY_DELAY)])
    assert request(bounce, "warn", queue_id) == {"status": 0}
    out = postcat(bounce, notice_id(bounce, queue_id, "sender delay"))
    assert "Subject: Delayed Mail (still being retried)\n" in out
    assert "Action: delayed\n" in out
    assert "for more than 4 hour(s).\n" in out, out
    assert "until it is 5 day(s) old.\n" in out, out
    assert "Will-Retry-Until: Fri, 27 Nov 2026 18:05:34 +0000 (UTC)\n" in out
    assert "Final-Recipient: rfc822; bob@example.net" in out
    assert "Final-Recipient: rfc822; carol@example.net" not in out
    assert "Final-Recipient: rfc822; dave@example.net" in out
    assert "Content-Type: text/rfc822-headers\n" in out
    assert log_path(bounce, "defer", queue_id).exists()


def test_trace_only_for_notify_success(bounce):
    queue_id = submit_active(bounce)
    sent = dict(recipient="bob@example.net", status="2.0.0",
                action="delivered", reason="delivered to maildir",
                relay="local", notify=NOTIFY_SUCCESS)
    write_log(bounce, "trace", queue_id,
              [sent, dict(sent, recipient="carol@example.net", notify=0)])
    assert request(bounce, "trace", queue_id) == {"status": 0}
    out = postcat(bounce, notice_id(bounce, queue_id,
                                    "sender delivery status"))
    assert "Subject: Successful Mail Delivery Report\n" in out
    assert ("<bob@example.net>: delivery via local: delivered to maildir"
            in out), out
    assert "Action: delivered\nStatus: 2.0.0\n" in out
    assert "carol@example.net" not in out
    assert not log_path(bounce, "trace", queue_id).exists()
    # No trace file: nothing to do.
    assert request(bounce, "trace", queue_id) == {"status": 0}
    assert bounce.wait_for_log(rf"{queue_id}: no trace file -- not sending "
                               r"a notification")


def test_bad_requests(bounce):
    queue_id = submit_active(bounce)
    cases = [("nuke", "active", queue_id, 'unknown op "nuke"'),
             ("flush", "../etc", queue_id, 'bad queue name "../etc"'),
             ("flush", "active", "../x", 'bad queue ID "../x"')]
    for op, queue, qid, reason in cases:
        reply = request(bounce, op, qid, queue_name=queue)
        assert reply == {"status": 1, "reason": reason}, reply
