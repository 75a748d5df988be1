"""The SMTP server end to end: a real instance, real clients.

The instance runs smtpd on several loopback ports (master.cf services with
different -o overrides) and cleanup; qmgr is absent, so accepted mail stays
in incoming/ where build's postcat reads it. mynetworks is 192.0.2.0/24, so
127.0.0.1 is an outside client and relaying must be refused.

Expected replies and log lines were recorded from Debian's Postfix 3.7.11
(a scratch instance on a loopback port), e.g.:
    220 mail.example.test ESMTP Postfix
    250-mail.example.test / PIPELINING / SIZE 10240000 / VRFY / ETRN /
        ENHANCEDSTATUSCODES / 8BITMIME / DSN / SMTPUTF8 / CHUNKING
    503 5.5.1 Error: need MAIL command / need RCPT command /
        nested MAIL command / send HELO/EHLO first
    452 4.5.3 Error: too many recipients
    454 4.7.1 <joe@other.example>: Relay access denied
    459 <example.com>: service unavailable           (ETRN)
    503 Error: MAIL transaction in progress           (ETRN)
    252 2.0.0 joe                                     (VRFY)
    421 4.7.0 mail.example.test Error: too many errors
    421 4.4.2 mail.example.test Error: timeout exceeded
    Received: from client.example (localhost [127.0.0.1])
            by mail.example.test (Postfix) with ESMTP id 802D0A7AA11
            for <1@mail.example.test>; Sun, 22 Nov 2026 18:16:49 +0000 (UTC)
    (two recipients: "... id C570AA7B271;" then "\tSun, 22 Nov ...")
    NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 454 4.7.1
        <x@y>: Relay access denied; from=<a@b.test> to=<x@y> proto=SMTP
        helo=<c>
    lost connection after DATA (20 bytes) from localhost[127.0.0.1]
    timeout after DATA (5 bytes) from localhost[127.0.0.1]
    disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1
        quit=1 commands=5
We have no reverse DNS yet, so the client name is always "unknown"; we do
not offer CHUNKING (no BDAT yet).
"""
import os
import re
import smtplib
import subprocess
import time

import pytest


from conftest import run
from instance import can_connect, free_port, RawSMTP, wait_until

ENV = {"TZ": "UTC"}
HOST = "mail.example.test"

# Services: name -> -o overrides.
SERVICES = {
    "main": [],
    "reject": ["smtpd_relay_restrictions=permit_mynetworks,"
               "reject_unauth_destination"],
    "strict": ["smtpd_helo_required=yes", "disable_vrfy_command=yes",
               "smtpd_recipient_limit=2", "message_size_limit=2000",
               "smtpd_hard_error_limit=3",
               "smtpd_discard_ehlo_keywords=etrn,dsn"],
    "timeout": ["smtpd_timeout=2s"],
    "barelf": ["smtpd_forbid_bare_newline=reject"],
    "lfno": ["smtpd_forbid_bare_newline=no"],
    "sleep": ["smtpd_soft_error_limit=1", "smtpd_error_sleep_time=1s"],
    "junk": ["smtpd_junk_command_limit=2", "smtpd_hard_error_limit=2"],
    "trusted": ["mynetworks=127.0.0.0/8"],
    "remote": ["local_header_rewrite_clients="],
}


@pytest.fixture(scope="module")
def smtpd(tmp_path_factory, mail_owner):
    from instance import Instance

    inst = Instance(tmp_path_factory.mktemp("smtpd") / "postern",
                    mail_owner=mail_owner)
    # local_recipient_maps="": the default's hash:/etc/aliases would make
    # the test depend on the host (a missing aliases.db defers, as in
    # Postfix); recipient tables are tested in test_smtpd_more.py.
    inst.write_main(mynetworks="192.0.2.0/24", smtpd_error_sleep_time="0",
                   smtpd_hard_error_limit="100", local_recipient_maps="")
    inst.ports = {name: free_port() for name in SERVICES}
    master = "cleanup unix n - n - 0 cleanup\n"
    for name, overrides in SERVICES.items():
        master += f"127.0.0.1:{inst.ports[name]} inet n - n - - smtpd\n"
        master += "".join(f"  -o {o}\n" for o in overrides)
    inst.write_master(master)
    proc = inst.postfix("start")
    assert proc.returncode == 0, proc.stderr + inst.log()
    for port in inst.ports.values():
        wait_until(lambda: can_connect(port))
    yield inst
    inst.cleanup()


def raw(smtpd, service="main"):
    return RawSMTP(smtpd.ports[service])


def postcat(inst, queue_id, *flags):
    proc = run("postcat", "-c", inst.etc, *flags, "-q", queue_id, env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def queued_id(reply):
    match = re.fullmatch(r"250 2\.0\.0 Ok: queued as (\w+)", reply)
    assert match, reply
    return match.group(1)


def transaction(conn, sender="a@b.test", rcpts=("joe@mail.example.test",),
                helo="EHLO client.example"):
    assert conn.cmd(helo).startswith("250")
    assert conn.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 Ok"
    for rcpt in rcpts:
        assert conn.cmd(f"RCPT TO:<{rcpt}>") == "250 2.1.5 Ok"
    assert conn.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"


def test_greeting_and_ehlo(smtpd):
    client = smtplib.SMTP("127.0.0.1", smtpd.ports["main"], timeout=10)
    try:
        code, banner = client.ehlo("client.example")
        assert code == 250
        assert banner.decode().split("\n") == [
            HOST, "PIPELINING", "SIZE 10240000", "VRFY", "ETRN",
            "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]
        assert client.helo("x")[0] == 250
    finally:
        client.quit()
    conn = raw(smtpd)
    assert conn.greeting == f"220 {HOST} ESMTP Postfix"
    assert conn.cmd("HELO client.example") == f"250 {HOST}"
    conn.close()


def test_ehlo_discard_keywords_and_vrfy_disabled(smtpd):
    conn = raw(smtpd, "strict")
    assert conn.cmd("EHLO c").split("\n") == [
        f"250-{HOST}", "250-PIPELINING", "250-SIZE 2000",
        "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 SMTPUTF8"]
    assert conn.cmd("VRFY joe") == "502 5.5.1 VRFY command is disabled"
    conn.close()


def test_full_transaction_is_queued(smtpd):
    conn = raw(smtpd)
    transaction(conn)
    conn.send("Subject: hello\r\n\r\n..dot line\r\nbody\r\n"
              "..\r\n.\r\n")
    queue_id = queued_id(conn.reply())
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()
    path = smtpd.queue / "incoming" / queue_id
    assert path.stat().st_mode & 0o100, "not marked complete"
    env = postcat(smtpd, queue_id)
    assert "sender: a@b.test\n" in env
    assert "recipient: joe@mail.example.test\n" in env
    assert "named_attribute: client_address=127.0.0.1\n" in env
    assert "named_attribute: client_name=unknown\n" in env
    assert "named_attribute: helo_name=client.example\n" in env
    assert "named_attribute: protocol_name=ESMTP\n" in env
    assert re.search(r"named_attribute: client_port=\d+\n", env)
    body = postcat(smtpd, queue_id, "-bh")
    match = re.fullmatch(
        r"Received: from client\.example \(unknown \[127\.0\.0\.1\]\)\n"
        rf"\tby {re.escape(HOST)} \(Postfix\) with ESMTP id {queue_id}\n"
        r"\tfor <joe@mail\.example\.test>; "
        r"(\w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\))\n"
        r"Subject: hello\n"
        # 127.0.0.1 is one of our inet_interfaces: the client matches
        # local_header_rewrite_clients (permit_inet_interfaces), so cleanup
        # adds the missing headers, as Postfix does.
        rf"Message-Id: <\d{{14}}\.{queue_id}@{re.escape(HOST)}>\n"
        r"Date: .*\nFrom: a@b\.test\n"
        r"\n\.dot line\nbody\n\.\n", body)
    assert match, body
    smtpd.wait_for_log(rf"smtpd\[\d+\]: {queue_id}: client="
                       r"unknown\[127\.0\.0\.1\]")
    smtpd.wait_for_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 "
                       r"mail=1 rcpt=1 data=1 quit=1 commands=5\n")


def test_remote_client_gets_no_added_headers(smtpd):
    """A client outside local_header_rewrite_clients: cleanup works in
    the remote context and adds no Message-Id:, Date: or From:."""
    conn = raw(smtpd, "remote")
    transaction(conn)
    conn.send("Subject: remote\r\n\r\nbody\r\n.\r\n")
    queue_id = queued_id(conn.reply())
    conn.close()
    body = postcat(smtpd, queue_id, "-bh")
    assert "Subject: remote\n\nbody\n" in body, body
    assert "Message-Id:" not in body and "From:" not in body, body
    env = postcat(smtpd, queue_id)
    assert "named_attribute: rewrite_context=remote\n" in env, env


def test_two_recipients_received_layout_and_smtp(smtpd):
    conn = raw(smtpd)
    transaction(conn, rcpts=("a@mail.example.test", "b@localhost"),
                helo="HELO client.example")
    conn.send("Subject: x\r\n\r\nbody\r\n.\r\n")
    queue_id = queued_id(conn.reply())
    conn.close()
    body = postcat(smtpd, queue_id, "-bh")
    lines = body.split("\n")
    assert lines[1] == f"\tby {HOST} (Postfix) with SMTP id {queue_id};"
    assert re.fullmatch(r"\t\w{3}, .*", lines[2]), body
    assert lines[3] == "Subject: x"


def test_smtplib_and_swaks(smtpd):
    client = smtplib.SMTP("127.0.0.1", smtpd.ports["main"], timeout=10)
    client.ehlo("client.example")
    refused = client.sendmail("a@b.test", ["joe@mail.example.test"],
                              "Subject: s\r\n\r\nhi\r\n")
    assert refused == {}
    client.quit()
    proc = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port",
         str(smtpd.ports["main"]), "--from", "a@b.test", "--to",
         "joe@mail.example.test", "--helo", "swaks.example",
         "--body", "hello from swaks", "--pipeline"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    match = re.search(r"<-  250 2\.0\.0 Ok: queued as (\w+)", proc.stdout)
    assert match, proc.stdout
    assert "hello from swaks" in postcat(smtpd, match.group(1), "-b")


STATE_CASES = [
    ("RCPT TO:<a@mail.example.test>", "503 5.5.1 Error: need MAIL command"),
    ("DATA", "503 5.5.1 Error: need MAIL command"),
    ("DATA x", "503 5.5.1 Error: need MAIL command"),
    ("RSET x", "501 5.5.4 Syntax: RSET"),
    ("NOOP", "250 2.0.0 Ok"),
    ("EXPN joe", "500 5.5.2 Error: command not recognized"),
    ("HELP", "500 5.5.2 Error: command not recognized"),
    ("FOO bar", "500 5.5.2 Error: command not recognized"),
    ("STARTTLS", "502 5.5.1 Error: command not implemented"),
    ("AUTH PLAIN", "503 5.5.1 Error: authentication not enabled"),
    ("XCLIENT NAME=x", "550 5.7.0 Error: insufficient authorization"),
    ("ETRN", "500 Syntax: ETRN domain"),
    ("ETRN -bad", "501 Error: invalid parameter syntax"),
    ("ETRN @example.com", "459 <example.com>: service unavailable"),
    ("VRFY", "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"),
    ("VRFY joe", "252 2.0.0 joe"),
    ("VRFY <joe@mail.example.test>", "252 2.0.0 <joe@mail.example.test>"),
    ("VRFY joe@other.example",
     "454 4.7.1 <joe@other.example>: Relay access denied"),
    ("MAIL FROM:<a@b.test>", "250 2.1.0 Ok"),
    ("MAIL FROM:<a@b.test>", "503 5.5.1 Error: nested MAIL command"),
    ("ETRN example.com", "503 Error: MAIL transaction in progress"),
    ("DATA", "503 5.5.1 Error: need RCPT command"),
    ("RCPT TO:<a b>", "501 5.1.3 Bad recipient address syntax"),
    ("RCPT TO:<a@mail.example.test> FOO=1",
     "555 5.5.4 Unsupported option: FOO=1"),
    ("RSET", "250 2.0.0 Ok"),
    ("DATA", "503 5.5.1 Error: need MAIL command"),
    ("MAIL FROM:<a@b.test> SIZE=x", "501 5.5.4 Bad message size syntax"),
    ("MAIL FROM:<a@b.test> SIZE=10240001",
     "552 5.3.4 Message size exceeds fixed limit"),
    ("MAIL FROM:<a@b.test> SIZE=10240000", "250 2.1.0 Ok"),
    ("QUIT", "221 2.0.0 Bye"),
]


def test_state_errors_and_replies(smtpd):
    conn = raw(smtpd)
    got = [(line, conn.cmd(line)) for line, _ in STATE_CASES]
    assert got == STATE_CASES
    conn.close()
    smtpd.wait_for_log(
        r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: 552 5\.3\.4 "
        r"Message size exceeds fixed limit; from=<a@b\.test> proto=SMTP\n")
    smtpd.wait_for_log(
        r"NOQUEUE: reject: VRFY from unknown\[127\.0\.0\.1\]: 454 4\.7\.1 "
        r"<joe@other\.example>: Relay access denied; to=<joe@other\.example>"
        r" proto=SMTP\n")


def test_helo_required_and_recipient_limit(smtpd):
    conn = raw(smtpd, "strict")
    assert conn.cmd("MAIL FROM:<a@b.test>") == \
        "503 5.5.1 Error: send HELO/EHLO first"
    assert conn.cmd("HELO c") == f"250 {HOST}"
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd("RCPT TO:<1@mail.example.test>") == "250 2.1.5 Ok"
    assert conn.cmd("RCPT TO:<2@mail.example.test>") == "250 2.1.5 Ok"
    assert conn.cmd("RCPT TO:<3@mail.example.test>") == \
        "452 4.5.3 Error: too many recipients"
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()


def test_message_too_big_during_data(smtpd):
    conn = raw(smtpd, "strict")
    transaction(conn, helo="HELO c")
    conn.send("Subject: big\r\n\r\n" + ("x" * 99 + "\r\n") * 30 + ".\r\n")
    assert conn.reply() == "552 5.3.4 Message size exceeds fixed limit"
    assert conn.cmd("NOOP") == "250 2.0.0 Ok"
    conn.close()
    smtpd.wait_for_log(r": reject: END-OF-MESSAGE from unknown\[127\.0\.0\."
                       r"1\]: 552 5\.3\.4 Message size exceeds fixed limit;")


def test_hard_error_limit(smtpd):
    conn = raw(smtpd, "strict")
    assert conn.cmd("FOO") == "500 5.5.2 Error: command not recognized"
    assert conn.cmd("BAR") == "500 5.5.2 Error: command not recognized"
    assert conn.cmd("BAZ") == "500 5.5.2 Error: command not recognized"
    assert conn.reply() == f"421 4.7.0 {HOST} Error: too many errors"
    assert conn.reply() == "<EOF>"
    conn.close()
    smtpd.wait_for_log(r"too many errors after UNKNOWN from "
                       r"unknown\[127\.0\.0\.1\]\n")
    smtpd.wait_for_log(r"disconnect from unknown\[127\.0\.0\.1\] "
                       r"unknown=0/3 commands=0/3\n")


def test_hard_error_limit_reply(smtpd):
    conn = raw(smtpd, "strict")
    conn.send("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
    replies = [conn.reply() for _ in range(4)]
    assert replies == ["500 5.5.2 Error: command not recognized"] * 3 + [
        f"421 4.7.0 {HOST} Error: too many errors"]
    assert conn.reply() == "<EOF>"
    conn.close()


def test_junk_command_limit(smtpd):
    # Limit 2: the third and fourth NOOP each count as an error, and the
    # hard limit (2) ends the session after the fourth.
    conn = raw(smtpd, "junk")
    assert [conn.cmd("NOOP") for _ in range(4)] == ["250 2.0.0 Ok"] * 4
    assert conn.reply() == f"421 4.7.0 {HOST} Error: too many errors"
    conn.close()


def test_soft_error_limit_sleeps(smtpd):
    conn = raw(smtpd, "sleep")
    start = time.monotonic()
    conn.cmd("FOO")
    assert time.monotonic() - start < 0.8
    start = time.monotonic()
    conn.cmd("BAR")
    assert time.monotonic() - start >= 0.9
    conn.close()


RELAY_CASES = [
    # (recipient, accepted?) with mydestination = mail.example.test,
    # localhost.localdomain, localhost; relay_domains empty.
    ("joe@mail.example.test", True),
    ("joe@MAIL.EXAMPLE.TEST", True),
    ("joe@mail.example.test.", True),
    ("joe@localhost", True),
    ("joe", True),
    ("joe@other.example", False),
    ("joe%other.example@mail.example.test", False),
    ("joe%localhost@mail.example.test", True),
    ("other.example!joe@mail.example.test", False),
    ("localhost!joe@mail.example.test", True),
    ('"joe@other.example"@mail.example.test', False),
    ("joe@other.example@mail.example.test", False),
    ('"joe%other.example"@mail.example.test', False),
    ("a!b!c@mail.example.test", False),
    ("joe@[127.0.0.1]", False),
    ("@other.example:joe@mail.example.test", True),
    ("joe@sub.mail.example.test", False),
]


@pytest.mark.parametrize("service,code", [("main", "454 4.7.1"),
                                          ("reject", "554 5.7.1")])
def test_relay_tricks(smtpd, service, code):
    conn = raw(smtpd, service)
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    for rcpt, is_ok in RELAY_CASES:
        reply = conn.cmd(f"RCPT TO:<{rcpt}>")
        if is_ok:
            assert reply == "250 2.1.5 Ok", rcpt
        else:
            internal = rcpt.replace('"', "")
            assert reply == f"{code} <{internal}>: Relay access denied", \
                rcpt
    conn.close()
    smtpd.wait_for_log(
        rf": reject: RCPT from unknown\[127\.0\.0\.1\]: {code} "
        r"<joe@other\.example>: Relay access denied; from=<a@b\.test> "
        r"to=<joe@other\.example> proto=ESMTP helo=<client\.example>\n")


def test_mynetworks_may_relay(smtpd):
    conn = raw(smtpd, "trusted")
    transaction(conn, rcpts=("joe@other.example",))
    conn.send("Subject: relay\r\n\r\nok\r\n.\r\n")
    queued_id(conn.reply())
    conn.close()


def test_relay_denied_with_smtplib(smtpd):
    client = smtplib.SMTP("127.0.0.1", smtpd.ports["reject"], timeout=10)
    client.ehlo("client.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
        client.sendmail("a@b.test", ["x@other.example"], "Subject: s\r\n\r\n")
    assert info.value.recipients == {
        "x@other.example": (554, b"5.7.1 <x@other.example>: Relay access "
                                 b"denied")}
    client.quit()
    smtpd.wait_for_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: "
                       r"554 5\.7\.1 <x@other\.example>: Relay access denied;"
                       r" from=<a@b\.test> to=<x@other\.example> "
                       r"proto=ESMTP helo=<client\.example>\n")


def test_pipelining(smtpd):
    # RFC 2920 groups: EHLO and DATA end a group (the client waits);
    # improper pipelining is in test_smtpd_more.py.
    conn = raw(smtpd)
    assert conn.cmd("EHLO client.example").startswith("250")
    conn.send("MAIL FROM:<a@b.test>\r\n"
              "RCPT TO:<joe@mail.example.test>\r\n"
              "RCPT TO:<joe@other.example>\r\nDATA\r\n")
    replies = [conn.reply() for _ in range(4)]
    assert replies == ["250 2.1.0 Ok", "250 2.1.5 Ok",
                       "454 4.7.1 <joe@other.example>: Relay access "
                       "denied",
                       "354 End data with <CR><LF>.<CR><LF>"]
    conn.send("Subject: p\r\n\r\nbody\r\n.\r\nRSET\r\nQUIT\r\n")
    queue_id = queued_id(conn.reply())
    assert conn.reply() == "250 2.0.0 Ok"
    assert conn.reply() == "221 2.0.0 Bye"
    conn.close()
    assert "recipient: joe@mail.example.test\n" in postcat(smtpd, queue_id)


# Content after "DATA" and the 354 reply; each must NOT end the message
# before the final "\r\n.\r\n", and the smuggled "MAIL" must be content.
SMUGGLING = [
    b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n",
    b"\r\n.\r\r\n",
]


@pytest.mark.parametrize("ending", SMUGGLING)
def test_smuggling_is_content(smtpd, ending):
    conn = raw(smtpd)
    transaction(conn)
    conn.send(b"Subject: s\r\n\r\nbefore" + ending +
              b"MAIL FROM:<evil@b.test>\r\nRCPT TO:<x@mail.example.test>"
              b"\r\nDATA\r\n\r\nsmuggled\r\n.\r\n")
    queue_id = queued_id(conn.reply())
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()
    body = postcat(smtpd, queue_id, "-b")
    assert "MAIL FROM:<evil@b.test>" in body
    assert "smuggled" in body


def test_lf_dot_lf_ends_data_in_no_mode(smtpd):
    conn = raw(smtpd, "lfno")
    transaction(conn)
    conn.send(b"Subject: s\r\n\r\nbody\n.\n")
    queued_id(conn.reply())
    conn.close()


def test_bare_lf_normalize(smtpd):
    conn = raw(smtpd)
    conn.send("EHLO c\n")
    assert conn.reply().startswith("250-")
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    conn.send("RCPT TO:<joe@mail.example.test>\nDATA\n")
    assert conn.reply() == "250 2.1.5 Ok"
    assert conn.reply() == "354 End data with <CR><LF>.<CR><LF>"
    conn.send("Subject: lf\n\nline one\nline two\r\n.\r\n")
    queue_id = queued_id(conn.reply())
    conn.close()
    assert postcat(smtpd, queue_id, "-b") == "\nline one\nline two\n"


def test_bare_lf_reject(smtpd):
    conn = raw(smtpd, "barelf")
    transaction(conn)
    conn.send("Subject: lf\r\n\r\nbare\nlf\r\n.\r\n")
    assert conn.reply() == f"550 5.5.2 {HOST} Error: bare <LF> received"
    assert conn.cmd("NOOP") == "250 2.0.0 Ok"
    conn.send("NOOP\n")
    assert conn.reply() == f"550 5.5.2 {HOST} Error: bare <LF> received"
    assert conn.reply() == "<EOF>"
    conn.close()


def test_overlong_lines(smtpd):
    conn = raw(smtpd)
    assert conn.cmd("NOOP " + "x" * 5000) == \
        "500 5.5.2 Error: line too long"
    assert conn.cmd("NOOP") == "250 2.0.0 Ok"
    transaction(conn)
    long_line = "y" * 5000
    conn.send(f"Subject: long\r\n\r\n{long_line}\r\n.{long_line}\r\n"
              ".\r\n")
    queue_id = queued_id(conn.reply())
    conn.close()
    assert postcat(smtpd, queue_id, "-b") == \
        f"\n{long_line}\n{long_line}\n"


def test_timeout(smtpd):
    conn = raw(smtpd, "timeout")
    assert conn.cmd("HELO c") == f"250 {HOST}"
    assert conn.reply() == f"421 4.4.2 {HOST} Error: timeout exceeded"
    assert conn.reply() == "<EOF>"
    conn.close()
    smtpd.wait_for_log(r"timeout after HELO from unknown\[127\.0\.0\.1\]\n")
    conn = raw(smtpd, "timeout")
    transaction(conn)
    conn.send("abc\r\n")
    assert conn.reply() == f"421 4.4.2 {HOST} Error: timeout exceeded"
    conn.close()
    smtpd.wait_for_log(r"timeout after DATA \(5 bytes\) from "
                       r"unknown\[127\.0\.0\.1\]\n")


def _incoming_files(inst):
    found = []
    for dirpath, _, files in os.walk(inst.queue / "incoming"):
        found += [os.path.join(dirpath, f) for f in files]
    return set(found)


def test_disconnect_mid_data_leaves_no_complete_file(smtpd):
    before = _incoming_files(smtpd)
    conn = raw(smtpd)
    transaction(conn)
    conn.send("Subject: x\r\n\r\nbody\r\n")
    time.sleep(0.3)
    conn.close()
    smtpd.wait_for_log(r"lost connection after DATA \(20 bytes\) from "
                       r"unknown\[127\.0\.0\.1\]\n")
    smtpd.wait_for_log(r"unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 "
                       r"data=0/1 commands=3/4\n")

    def settled():
        new = _incoming_files(smtpd) - before
        return all(not os.stat(f).st_mode & 0o100 for f in new
                   if os.path.exists(f)) and not [
            f for f in new if os.path.exists(f)]
    wait_until(settled)


def test_connect_and_lost_connection_logs(smtpd):
    conn = raw(smtpd)
    assert conn.cmd("EHLO c").startswith("250")
    conn.close()
    smtpd.wait_for_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.0\.1\]")
    smtpd.wait_for_log(r"lost connection after EHLO from "
                       r"unknown\[127\.0\.0\.1\]\n")
