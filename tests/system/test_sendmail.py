"""Local submission end to end: sendmail -> postdrop -> maildrop/ -> pickup
-> cleanup -> incoming/.

Each test starts an instance running cleanup and pickup
(`pickup unix n - n 60 1 pickup`) and runs build's sendmail with -C.
Expected words were recorded from Debian's Postfix 3.7 (sendmail and
postdrop with a scratch queue), e.g.
    postdrop: warning: uid=0: File too large
    sendmail: fatal: root(0): message file too big          (exit 75)
    sendmail: fatal: root(0): Recipient addresses must be specified on
        the command line or via the -t option                (exit 64)
    sendmail: fatal: root(0): No recipient addresses found in message
        header                                               (exit 64)
    postdrop: warning: unable to look up public/pickup: No such file or
        directory                                            (pickup down)
and maildrop files of mode 0744. pickup's Received: header and its log
line "QUEUEID: uid=N from=<sender>" follow Postfix's pickup.
"""
import os
import pwd
import re
import stat
import subprocess
import time

import pytest

from conftest import SBIN, run
from instance import connect_unix, queue_file_paths
from postern_proto import record

MASTER_CF = ("cleanup unix n - n - 0 cleanup\n"
             "pickup unix n - n 60 1 pickup\n")
ENV = {"TZ": "UTC"}
UID = os.getuid()
LOGIN = pwd.getpwuid(UID).pw_name


@pytest.fixture
def mta(instance):
    instance.write_main(message_size_limit="20000")
    instance.write_master(MASTER_CF)
    instance.start()
    sock = instance.queue / "public" / "pickup"
    deadline = time.monotonic() + 10
    while not (sock.exists() and
               (instance.queue / "public" / "cleanup").exists()):
        assert time.monotonic() < deadline, instance.log()
        time.sleep(0.05)
    return instance


@pytest.fixture
def queue(instance):
    """An instance whose queue exists but which is not running."""
    instance.start()
    assert instance.stop().returncode == 0
    return instance


def kick_pickup(inst):
    """Start the instance and wake pickup up, as master's timer would."""
    inst.write_master(MASTER_CF)
    inst.start()
    sock = inst.queue / "public" / "pickup"
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, inst.log()
        time.sleep(0.05)
    with connect_unix(sock) as conn:
        conn.sendall(b"W")


def sendmail(inst, *args, input="Subject: test\n\nbody\n", name="sendmail"):
    if UID != 0:
        # As in Postfix, only root may give -C a directory that the
        # default main.cf does not list; MAIL_CONFIG is trusted.
        env = dict(ENV, MAIL_CONFIG=str(inst.etc))
        return run(name, *args, input=input, env=env)
    return run(name, "-C", inst.etc, *args, input=input, env=ENV)


def maildrop(inst):
    return sorted(os.listdir(inst.queue / "maildrop"))


def incoming(inst):
    return sorted(os.path.basename(p)
                  for p in queue_file_paths(inst.queue / "incoming"))


def picked_up(inst, sender):
    """Wait for pickup's log line; return the new queue ID."""
    match = inst.wait_for_log(
        rf"postfix/pickup\[\d+\]: (\w+): uid={UID} "
        rf"from=<{re.escape(sender)}>")
    queue_id = match.group(1)
    inst.wait_for_log(rf"postfix/cleanup\[\d+\]: {queue_id}: "
                      r"(resent-)?message-id=")
    deadline = time.monotonic() + 10
    while maildrop(inst):
        assert time.monotonic() < deadline, (maildrop(inst), inst.log())
        time.sleep(0.05)
    return queue_id


def postcat(inst, queue_id, *flags):
    proc = run("postcat", "-c", inst.etc, *flags, "-q", queue_id, env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_recipients_as_arguments(mta):
    proc = sendmail(mta, "bob@example.net, Carol <carol@example.net>",
                    "dave@example.net (Dave)")
    assert proc.returncode == 0, proc.stderr + mta.log()
    assert proc.stderr == ""
    queue_id = picked_up(mta, LOGIN)
    assert incoming(mta) == [queue_id]
    env = postcat(mta, queue_id, "-e")
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        "bob@example.net", "carol@example.net", "dave@example.net"]
    assert f"sender: {LOGIN}\n" in env
    assert "named_attribute: rewrite_context=local" in env
    body = postcat(mta, queue_id, "-hb")
    lines = body.split("\n")
    assert lines[0] == (f"Received: by mail.example.test (Postfix, from "
                        f"userid {UID})")
    assert re.fullmatch(rf"\tid {queue_id}; \w{{3}}, [ \d]\d \w{{3}} \d{{4}} "
                        r"\d\d:\d\d:\d\d \+0000 \(UTC\)", lines[1]), lines[1]
    assert lines[2] == "Subject: test"
    assert re.search(rf"^Message-Id: <\d{{14}}\.{queue_id}@mail\.example"
                     r"\.test>$", body, re.M), body
    assert re.search(r"^Date: ", body, re.M)
    assert re.search(rf"^From: .*{re.escape(LOGIN)}", body, re.M), body
    assert body.endswith("\nbody\n")


def test_extract_recipients_from_headers(mta):
    text = ("From: someone@example.org\n"
            "To: Bob <bob@example.net>, \"Smith, C\" <carol@example.net>\n"
            "Cc: list: dave@example.net, erin@example.net;\n"
            "Bcc: hidden@example.net\n"
            "Subject: t\n\nbody\nTo: not-a-header@example.net\n")
    proc = sendmail(mta, "-t", "-f", "joe@example.org", "extra@example.net",
                    input=text)
    assert proc.returncode == 0, proc.stderr
    queue_id = picked_up(mta, "joe@example.org")
    env = postcat(mta, queue_id, "-e")
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        "extra@example.net", "bob@example.net", "carol@example.net",
        "dave@example.net", "erin@example.net", "hidden@example.net"]
    body = postcat(mta, queue_id, "-hb")
    assert "Bcc:" not in body
    assert "To: Bob <bob@example.net>" in body


def test_extract_prefers_resent_headers(mta):
    text = ("To: old@example.net\nResent-To: new@example.net\n"
            "Resent-Cc: <cc@example.net>\n\nbody\n")
    proc = sendmail(mta, "-t", "-f", "joe@example.org", input=text)
    assert proc.returncode == 0, proc.stderr
    queue_id = picked_up(mta, "joe@example.org")
    env = postcat(mta, queue_id, "-e")
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        "new@example.net", "cc@example.net"]


def test_extract_without_recipients_fails(mta):
    proc = sendmail(mta, "-t", input="Subject: none\n\nbody\n")
    assert proc.returncode == 64
    assert proc.stderr == (f"sendmail: fatal: {LOGIN}({UID}): No recipient "
                           "addresses found in message header\n")
    time.sleep(0.3)
    assert maildrop(mta) == [] and incoming(mta) == []


def test_no_recipients_fails(mta):
    proc = sendmail(mta)
    assert proc.returncode == 64
    assert proc.stderr == (
        f"sendmail: fatal: {LOGIN}({UID}): Recipient addresses must be "
        "specified on the command line or via the -t option\n")
    assert maildrop(mta) == []


def test_sender_and_full_name(mta):
    proc = sendmail(mta, "-f", "Joe <joe@example.org>", "-F", "Joe Q. User",
                    "-N", "success,delay", "-V", "env-42",
                    "bob@example.net")
    assert proc.returncode == 0, proc.stderr
    queue_id = picked_up(mta, "joe@example.org")
    env = postcat(mta, queue_id, "-e")
    assert "sender_fullname: Joe Q. User\nsender: joe@example.org\n" in env
    assert "dsn_envelope_id: env-42" in env, env
    assert "dsn_notify_flags: 10\nrecipient: bob@example.net" in env
    body = postcat(mta, queue_id, "-hb")
    assert 'From: "Joe Q. User" <joe@example.org>' in body


def test_null_sender_and_r(mta):
    proc = sendmail(mta, "-r", "<>", "bob@example.net")
    assert proc.returncode == 0, proc.stderr
    queue_id = picked_up(mta, "")
    assert "sender: \n" in postcat(mta, queue_id, "-e")


@pytest.mark.parametrize("flags, kept", [([], False), (["-i"], True),
                                         (["-oi"], True)])
def test_lone_dot(mta, flags, kept):
    text = "Subject: dot\n\nline 1\n.\nline 2\n"
    proc = sendmail(mta, *flags, "-f", "dot@example.org", "bob@example.net",
                    input=text)
    assert proc.returncode == 0, proc.stderr
    queue_id = picked_up(mta, "dot@example.org")
    body = postcat(mta, queue_id, "-b")
    if kept:
        assert body.endswith("line 1\n.\nline 2\n"), body
    else:
        assert body.endswith("line 1\n"), body


def test_from_line_cr_and_long_lines(mta):
    long_line = "x" * 5000
    text = ("From joe Sun Nov 22 18:05:34 2026\r\n>From also\r\n"
            f"Subject: crlf\r\n\r\n{long_line}\r\nend\r\n")
    proc = sendmail(mta, "-f", "cr@example.org", "bob@example.net",
                    input=text)
    assert proc.returncode == 0, proc.stderr
    queue_id = picked_up(mta, "cr@example.org")
    body = postcat(mta, queue_id, "-hb")
    assert "From joe" not in body and ">From also" not in body
    assert "\r" not in body
    assert body.endswith(f"\n{long_line}\nend\n")


def test_message_too_big(mta):
    text = "Subject: big\n\n" + ("y" * 70 + "\n") * 400
    proc = sendmail(mta, "bob@example.net", input=text)
    assert proc.returncode == 75
    assert proc.stderr == (f"postdrop: warning: uid={UID}: File too large\n"
                           f"sendmail: fatal: {LOGIN}({UID}): message file "
                           "too big\n")
    time.sleep(0.3)
    assert maildrop(mta) == [] and incoming(mta) == []


def test_postdrop_without_pickup_keeps_the_file(queue):
    proc = sendmail(queue, "-f", "a@example.org", "bob@example.net")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ("postdrop: warning: unable to look up "
                           "public/pickup: No such file or directory\n")
    files = maildrop(queue)
    assert len(files) == 1
    st = os.stat(queue.queue / "maildrop" / files[0])
    assert stat.S_IMODE(st.st_mode) == 0o744
    assert st.st_uid == UID
    # A later start picks it up.
    kick_pickup(queue)
    queue_id = picked_up(queue, "a@example.org")
    assert incoming(queue) == [queue_id]


def postdrop(inst, data):
    proc = subprocess.run([str(SBIN / "postdrop"), "-c", str(inst.etc)],
                          input=data, capture_output=True, timeout=30)
    return proc.returncode, proc.stdout, proc.stderr.decode()


GOOD = (record("S", b"a@example.org") + record("R", b"b@example.net") +
        record("M") + record("N", b"Subject: x") + record("N") +
        record("N", b"body") + record("X") + record("E"))


@pytest.mark.parametrize("data, status, stderr", [
    (b"\x00\x01garbage", 1,
     "postdrop: fatal: uid={uid}: malformed input: stdin: offset 0: unknown "
     "record type 0x00\n"),
    (record("N", b"x") + GOOD, 1,
     "postdrop: fatal: uid={uid}: unexpected record type: 78\n"),
    (record("S", b"a") + record("S", b"b"), 1,
     "postdrop: fatal: uid={uid}: malformed input: duplicate sender record\n"),
    (record("R", b"a\x00b"), 1,
     "postdrop: fatal: uid={uid}: malformed input: NUL byte in recipient "
     "record\n"),
    (record("S", b"a") + b"R\x05ab", 1,
     "postdrop: fatal: uid={uid}: malformed input: stdin: offset 3: "
     "truncated record 'R': 5 data bytes expected, 2 present\n"),
    (record("R", b"b") + record("M") + record("X") + record("E"), 1,
     "postdrop: fatal: uid={uid}: malformed input: no sender record\n"),
    (record("S", b"a") + record("R", b"b"), 0, ""),
    (record("S", b"a") + record("M") + record("X") + record("E"), 1, ""),
])
def test_postdrop_refuses_bad_input(queue, data, status, stderr):
    rc, out, err = postdrop(queue, data)
    assert rc == status, err
    assert err == stderr.format(uid=UID)
    assert maildrop(queue) == []


def test_postdrop_protocol(queue):
    rc, out, err = postdrop(queue, record("A", b"x=y") + GOOD)
    assert rc == 0
    assert err == (f"postdrop: warning: uid={UID}: ignoring attribute "
                   "record: x=y\npostdrop: warning: unable to look up "
                   "public/pickup: No such file or directory\n")
    files = maildrop(queue)
    assert len(files) == 1
    assert out.startswith(b"s" + bytes([8]) + b"queue_id")
    assert files[0].encode() in out
    assert out.endswith(b"i\x06status\x00s\x06reason\x00.")


def test_pickup_skips_incomplete_and_removes_garbage(queue):
    drop = queue.queue / "maildrop"
    proc = sendmail(queue, "-f", "a@example.org", "bob@example.net")
    assert proc.returncode == 0, proc.stderr
    incomplete = drop / "12345ABCDEF"
    incomplete.write_bytes(b"partial")
    incomplete.chmod(0o644)
    garbage = drop / "12345ABCDE0"
    garbage.write_bytes(b"not a queue file")
    garbage.chmod(0o744)
    kick_pickup(queue)
    picked_up_id = queue.wait_for_log(
        rf"pickup\[\d+\]: (\w+): uid={UID} from=<a@example.org>").group(1)
    queue.wait_for_log(rf"pickup\[\d+\]: warning: uid={UID}: "
                          r"maildrop/12345ABCDE0: offset 0: ")
    deadline = time.monotonic() + 10
    while maildrop(queue) != ["12345ABCDEF"]:
        assert time.monotonic() < deadline, maildrop(queue)
        time.sleep(0.05)
    queue.wait_for_log(rf"cleanup\[\d+\]: {picked_up_id}: message-id=")
    assert incoming(queue) == [picked_up_id]


def test_unsupported_modes(mta):
    proc = sendmail(mta, "-bv")
    assert proc.returncode == 64
    assert proc.stderr == (
        f"sendmail: fatal: {LOGIN}({UID}): Recipient addresses must be "
        "specified on the command line or via the -t option\n")
    proc = sendmail(mta, "-t", "-bp")
    assert proc.returncode == 64
    assert proc.stderr == ("sendmail: fatal: -t can be used only in delivery"
                           " mode\n")
    proc = sendmail(mta, "-bz")
    assert (proc.returncode, proc.stderr) == (
        64, "sendmail: fatal: unsupported: -bz\n")


def test_newaliases(queue, tmp_path):
    aliases = tmp_path / "aliases"
    aliases.write_text("postmaster: root\nroot: bob@example.net\n")
    queue.write_main(alias_database=f"hash:{aliases}")
    for how in (["-bi"], ["-I"]):
        for suffix in (".lmdb", ".db"):
            if os.path.exists(f"{aliases}{suffix}"):
                os.unlink(f"{aliases}{suffix}")
        proc = sendmail(queue, *how)
        assert proc.returncode == 0, proc.stderr
        query = run("postalias", "-c", queue.etc, "-q", "root",
                    f"hash:{aliases}")
        assert query.stdout == "bob@example.net\n"
    proc = sendmail(queue, "-oA" + f"hash:{aliases}", name="newaliases")
    assert proc.returncode == 0, proc.stderr
    proc = sendmail(queue, "bob", name="newaliases")
    assert (proc.returncode, proc.stderr) == (
        64, "newaliases: fatal: alias initialization mode requires no "
        "recipient\n")


def test_mailq_runs_postqueue(queue):
    proc = sendmail(queue, name="mailq")
    if (SBIN / "postqueue").exists():
        assert proc.returncode in (0, 1)
    else:
        assert proc.returncode == 69
        assert proc.stderr == (f"mailq: fatal: execvp {SBIN}/postqueue: No "
                               "such file or directory\n")
