"""The cleanup daemon end to end: a real instance, the protocol from Python.

Each test starts an instance with `cleanup unix n - n - 0 cleanup`,
submits over queue/public/cleanup (master.cf private=n, as in
Postfix) with tests/system/postern_proto.py,
and checks the reply, the committed file (through build's postcat) and the
log. Expected headers and log lines were recorded from Debian's Postfix
3.7 (pickup/smtpd -> cleanup), e.g. for sendmail -F 'Joe Q. User':
    Message-Id: <20261122180535.51BE7A7C10C@mail.example.test>
    Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)
    From: "Joe Q. User" <joe@example.org>
    postfix/cleanup[19005]: 51BE7A7C10C: message-id=<2026...@mail...>
and, from a remote SMTP client without a Message-ID, "QUEUEID:
message-id=<>" with no header added. Bcc: is removed in both cases.
"""
import os
import re
import time

import pytest

from conftest import run
from instance import queue_file_paths
from postern_proto import (CLEANUP_FLAG_LOCAL, CLEANUP_STAT_BAD,
                           CLEANUP_STAT_HOPS, CLEANUP_STAT_SIZE,
                           CleanupClient, encode_attrs, record, submit)

MASTER_CF = "cleanup unix n - n - 0 cleanup\n"
ENV = {"TZ": "UTC"}


@pytest.fixture
def cleanup(instance):
    instance.write_main(message_size_limit="20000")
    instance.write_master(MASTER_CF)
    proc = instance.postfix("start")
    assert proc.returncode == 0, proc.stderr + instance.log()
    sock = instance.queue / "public" / "cleanup"
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, instance.log()
        time.sleep(0.05)
    return instance


def sock_path(inst):
    return inst.queue / "public" / "cleanup"


def postcat(inst, queue_id, *flags):
    proc = run("postcat", "-c", inst.etc, *flags, "-q", queue_id, env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def queue_files(inst):
    """Every file under the message queues (not sockets or pids)."""
    found = []
    for queue in ("incoming", "active", "deferred", "hold", "corrupt",
                  "maildrop"):
        found += queue_file_paths(inst.queue / queue)
    return found


def test_local_submission_gets_missing_headers(cleanup):
    arrival = 1795370734  # Sun Nov 22 18:05:34 2026 UTC
    queue_id, reply = submit(
        sock_path(cleanup), "joe@example.org",
        [("bob@example.net", "bob@example.net", 6,
          "rfc822;Bob@Example.NET")],
        "Subject: t1\nBcc: hidden@example.net\n\nbody\n",
        fullname="Joe Q. User", arrival=arrival,
        attrs=[("client_name", "localhost"),
               ("client_address", "127.0.0.1")])
    assert reply["status"] == 0, (reply, cleanup.log())
    assert re.fullmatch(r"[0-9A-F]{10,}", queue_id)
    assert (cleanup.queue / "incoming" / queue_id).exists()
    mode = (cleanup.queue / "incoming" / queue_id).stat().st_mode
    assert mode & 0o100, "not marked complete"
    out = postcat(cleanup, queue_id)
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(
        os.stat(cleanup.queue / "incoming" / queue_id).st_mtime))
    assert "message_arrival_time: Sun Nov 22 18:05:34 2026" in out
    assert "named_attribute: rewrite_context=local" in out
    assert "sender_fullname: Joe Q. User\nsender: joe@example.org\n" in out
    assert "named_attribute: client_name=localhost" in out
    assert ("original_recipient: bob@example.net\n"
            "dsn_notify_flags: 6\n"
            "dsn_original_recipient: rfc822;Bob@Example.NET\n"
            "recipient: bob@example.net\n") in out
    body = postcat(cleanup, queue_id, "-hb")
    mid = re.search(r"Message-Id: <(\d{14})\.(\w+)@mail\.example\.test>",
                    body)
    assert mid and mid.group(2) == queue_id, body
    assert abs(int(mid.group(1)) - int(stamp)) <= 5
    assert body == (
        "Subject: t1\n"
        f"Message-Id: <{mid.group(1)}.{queue_id}@mail.example.test>\n"
        "Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)\n"
        "From: \"Joe Q. User\" <joe@example.org>\n"
        "\n"
        "body\n")
    cleanup.wait_for_log(
        rf"postfix/cleanup\[\d+\]: {queue_id}: message-id="
        rf"<{mid.group(1)}\.{queue_id}@mail\.example\.test>")


def test_remote_client_headers_are_left_alone(cleanup):
    text = ("Received: from a\nMessage-ID:\n <folded@example.org>\n"
            "Bcc: x@y.test\nSubject: s\n\nbody\n")
    queue_id, reply = submit(sock_path(cleanup), "joe@example.org",
                             ["bob@example.net"], text, flags=0)
    assert reply["status"] == 0, reply
    body = postcat(cleanup, queue_id, "-hb")
    assert body == ("Received: from a\nMessage-ID:\n <folded@example.org>\n"
                    "Subject: s\n\nbody\n")
    cleanup.wait_for_log(rf": {queue_id}: message-id=<folded@example.org>")
    queue_id, reply = submit(sock_path(cleanup), "", ["bob@example.net"],
                             "Subject: s\n\nbody\n", flags=0)
    assert reply["status"] == 0
    cleanup.wait_for_log(rf": {queue_id}: message-id=<>$|"
                         rf": {queue_id}: message-id=<>\n")
    assert "Date:" not in postcat(cleanup, queue_id, "-h")


def test_null_sender_and_missing_blank_line(cleanup):
    queue_id, reply = submit(sock_path(cleanup), "", ["bob@example.net"],
                             "Subject: s\nbody line\n",
                             fullname="root")
    assert reply["status"] == 0
    lines = postcat(cleanup, queue_id, "-hb").splitlines()
    assert lines[0] == "Subject: s"
    assert lines[3] == "From: MAILER-DAEMON"
    assert lines[4:] == ["", "body line"]


def test_long_lines_travel_as_pieces(cleanup):
    long_line = "x" * 5000
    queue_id, reply = submit(sock_path(cleanup), "a@b.test", ["c@d.test"],
                             f"Subject: s\n\n{long_line}\nend\n")
    assert reply["status"] == 0
    # postcat -b shows the separating empty line, as Postfix's does.
    assert postcat(cleanup, queue_id, "-b") == f"\n{long_line}\nend\n"


def test_too_big_is_refused_and_leaves_nothing(cleanup):
    body = ("y" * 70 + "\n") * 400
    queue_id, reply = submit(sock_path(cleanup), "a@b.test", ["c@d.test"],
                             "Subject: big\n\n" + body)
    assert reply["status"] == CLEANUP_STAT_SIZE
    assert (reply["code"], reply["dsn"]) == (552, "5.3.4")
    assert reply["reason"] == "message file too big"
    assert queue_files(cleanup) == []
    cleanup.wait_for_log(
        rf"postfix/cleanup\[\d+\]: warning: {queue_id}: queue file size "
        r"limit exceeded")


def test_hopcount(cleanup):
    hops = "".join(f"Received: from x{i}\n" for i in range(50))
    queue_id, reply = submit(sock_path(cleanup), "a@b.test", ["c@d.test"],
                             hops + "Subject: loop\n\nbody\n")
    assert reply["status"] == CLEANUP_STAT_HOPS
    assert (reply["code"], reply["dsn"], reply["reason"]) == (
        554, "5.4.0", "too many hops")
    assert queue_files(cleanup) == []
    cleanup.wait_for_log(rf"warning: {queue_id}: message rejected: "
                         r"hopcount exceeded")
    hops = "".join(f"Received: from x{i}\n" for i in range(49))
    _, reply = submit(sock_path(cleanup), "a@b.test", ["c@d.test"],
                      hops + "Subject: ok\n\nbody\n")
    assert reply["status"] == 0


def test_disconnect_mid_message_leaves_nothing(cleanup):
    client = CleanupClient(sock_path(cleanup))
    assert (cleanup.queue / "incoming" / client.queue_id).exists()
    client.send_flags(CLEANUP_FLAG_LOCAL)
    client.envelope("a@b.test", ["c@d.test"])
    client.rec("M")
    client.rec("N", "Subject: half")
    client.flush()
    client.close()
    deadline = time.monotonic() + 10
    while queue_files(cleanup):
        assert time.monotonic() < deadline, queue_files(cleanup)
        time.sleep(0.05)


@pytest.mark.parametrize("garbage", [
    record("R", "c@d.test") + record("Z", "x"),           # unknown type
    record("C", "0"),                                      # size record
    record("S", "a@b.test") + record("S", "a@b.test"),    # two senders
    record("S", "a@b.test") + record("R", "c@d.test") + record("M")
    + record("N", "x") + record("E"),                      # E before X
    record("S", "a@b.test") + record("A", "create_time=1"),
    record("S", "a@b.test") + record("O", "x") + record("M"),
    b"\xff\xff\xff\xff\xff\xff",                            # bad length
])
def test_garbage_is_refused_and_leaves_nothing(cleanup, garbage):
    client = CleanupClient(sock_path(cleanup))
    client.send_flags(0)
    client.out += garbage
    reply = client.reply()
    client.close()
    assert reply["status"] == CLEANUP_STAT_BAD
    assert (reply["code"], reply["dsn"]) == (451, "4.3.0")
    assert queue_files(cleanup) == []
    cleanup.wait_for_log(rf"warning: {client.queue_id}: ")


def test_bad_flags_request_is_dropped(cleanup):
    client = CleanupClient(sock_path(cleanup))
    client.out += encode_attrs({"flags": 1 << 20})
    client.flush()
    assert client.sock.recv(100) == b""
    client.close()
    assert queue_files(cleanup) == []


def test_greeting_names_protocol_and_version(cleanup):
    client = CleanupClient(sock_path(cleanup))
    greeting = client.greeting
    client.close()
    assert greeting["protocol"] == "cleanup"
    assert greeting["version"] == 1
    assert greeting["status"] == 0
    assert greeting["line_length_limit"] == 2048


def test_no_recipients(cleanup):
    _, reply = submit(sock_path(cleanup), "a@b.test", [],
                      "Subject: s\n\nbody\n")
    assert (reply["status"], reply["code"], reply["dsn"]) == (16, 550,
                                                             "5.1.0")
    assert queue_files(cleanup) == []


def test_duplicate_recipients_are_dropped(cleanup):
    queue_id, reply = submit(sock_path(cleanup), "a@b.test",
                             ["c@d.test", "e@f.test", "c@d.test"],
                             "Subject: s\n\nbody\n")
    assert reply["status"] == 0
    out = postcat(cleanup, queue_id, "-e")
    assert out.count("recipient: c@d.test") == 1
    assert out.count("recipient: e@f.test") == 1
