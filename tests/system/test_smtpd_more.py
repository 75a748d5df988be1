"""The SMTP server's pipelining, queue space and table-failure behaviour.

Facts followed (Postfix's documented behaviour; 3.9 defaults where DESIGN.md
takes the later, safer one):
  - smtpd_forbid_unauth_pipelining (3.9 default yes): a client that sends
    ahead where RFC 2920 forbids it (before the greeting, after EHLO or
    DATA, or at all without EHLO) gets "554 5.5.0 Error: SMTP protocol
    synchronization", the session ends, and smtpd logs "improper command
    pipelining after X from NAME[ADDR]: <the unexpected input>".
  - MAIL FROM gets "452 4.3.1 Insufficient system storage" when the queue
    file system has less free space than max(queue_minfree,
    1.5 x message_size_limit), plus the client's SIZE=.
  - A lookup table that will not open defers the mail that needs it:
    "451 4.3.0 <ADDR>: Temporary lookup failure". Table types Postern does
    not implement yet (proxy:, unix:, nis:) are only warned about.
"""
import re
import socket
import time

import pytest

from instance import can_connect, free_port, wait_until

HOST = "mail.example.test"


def _services(etc):
    users = f"texthash:{etc}/users"
    missing = f"texthash:{etc}/no-such-table"
    return {
        "main": [],
        "early": [],
        "allow": ["smtpd_forbid_unauth_pipelining=no"],
        "restrict": ["smtpd_forbid_unauth_pipelining=no",
                     "smtpd_data_restrictions=reject_unauth_pipelining"],
        "minfree": ["queue_minfree=1000000000000000"],
        "limit": ["message_size_limit=1000"],
        "missing": [f"local_recipient_maps={missing}"],
        "unsupported": [f"local_recipient_maps=proxy:unix:passwd.byname,"
                        f"{users},nis:mail.aliases"],
        "relay": ["relay_domains=relay.example",
                  f"relay_recipient_maps={missing}"],
    }


@pytest.fixture(scope="module")
def smtpd(tmp_path_factory, mail_owner):
    from instance import Instance

    inst = Instance(tmp_path_factory.mktemp("smtpd_more") / "postern",
                    mail_owner=mail_owner)
    inst.write_main(mynetworks="192.0.2.0/24", smtpd_error_sleep_time="0",
                    local_recipient_maps="")
    (inst.etc / "users").write_text("joe x\n")
    services = _services(inst.etc)
    inst.ports = {name: free_port() for name in services}
    master = "cleanup unix n - n - 0 cleanup\n"
    for name, overrides in services.items():
        maxproc = "1" if name == "early" else "-"
        master += (f"127.0.0.1:{inst.ports[name]} inet n - n - {maxproc} "
                   "smtpd\n")
        master += "".join(f"  -o {o}\n" for o in overrides)
    inst.write_master(master)
    proc = inst.postfix("start")
    assert proc.returncode == 0, proc.stderr + inst.log()
    for port in inst.ports.values():
        wait_until(lambda: can_connect(port))
    yield inst
    inst.cleanup()


class Raw:
    """A raw SMTP connection; the greeting is read only on request."""

    def __init__(self, port, read_greeting=True):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=10)
        self.file = self.sock.makefile("rb")
        if read_greeting:
            assert self.reply().startswith("220 ")

    def reply(self):
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                lines.append("<EOF>")
                break
            lines.append(line.decode("latin-1").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        return "\n".join(lines)

    def send(self, data):
        self.sock.sendall(data.encode("latin-1"))

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def close(self):
        self.file.close()
        self.sock.close()


SYNC = "554 5.5.0 Error: SMTP protocol synchronization"


def improper(after, text):
    return (r"smtpd\[\d+\]: improper command pipelining after "
            rf"{after} from unknown\[127\.0\.0\.1\]: {re.escape(text)}\n")


def test_pipelining_after_ehlo_is_refused(smtpd):
    conn = Raw(smtpd.ports["main"])
    conn.send("EHLO client.example\r\nMAIL FROM:<a@b.test>\r\n")
    assert conn.reply() == SYNC
    assert conn.reply() == "<EOF>"
    conn.close()
    smtpd.wait_for_log(improper("EHLO", r"MAIL FROM:<a@b.test>\r\n"))


def test_pipelining_without_ehlo_is_refused(smtpd):
    conn = Raw(smtpd.ports["main"])
    assert conn.cmd("HELO client.example") == f"250 {HOST}"
    conn.send("MAIL FROM:<c@b.test>\r\nRCPT TO:<joe@mail.example.test>\r\n")
    assert conn.reply() == SYNC
    conn.close()
    smtpd.wait_for_log(improper("MAIL",
                                r"RCPT TO:<joe@mail.example.test>\r\n"))


def test_pipelining_after_data_is_refused(smtpd):
    conn = Raw(smtpd.ports["main"])
    assert conn.cmd("EHLO client.example").startswith("250")
    conn.send("MAIL FROM:<d@b.test>\r\nRCPT TO:<joe@mail.example.test>\r\n"
              "DATA\r\nSubject: x\r\n")
    assert conn.reply() == "250 2.1.0 Ok"
    assert conn.reply() == "250 2.1.5 Ok"
    assert conn.reply() == SYNC
    conn.close()
    smtpd.wait_for_log(improper("DATA", r"Subject: x\r\n"))


def test_talking_before_the_greeting_is_refused(smtpd):
    # The only smtpd process of "early" is busy, so the second client
    # waits in the listen queue and its EHLO is there before the greeting.
    busy = Raw(smtpd.ports["early"])
    conn = Raw(smtpd.ports["early"], read_greeting=False)
    conn.send("EHLO early.example\r\n")
    time.sleep(0.3)
    assert busy.cmd("QUIT") == "221 2.0.0 Bye"
    busy.close()
    assert conn.reply().startswith("220 ")
    assert conn.reply() == SYNC
    conn.close()
    smtpd.wait_for_log(improper("CONNECT", r"EHLO early.example\r\n"))


def test_legitimate_pipelining_works(smtpd):
    conn = Raw(smtpd.ports["main"])
    assert conn.cmd("EHLO client.example").startswith("250")
    conn.send("MAIL FROM:<e@b.test>\r\nRCPT TO:<joe@mail.example.test>\r\n"
              "DATA\r\n")
    assert [conn.reply() for _ in range(3)] == [
        "250 2.1.0 Ok", "250 2.1.5 Ok",
        "354 End data with <CR><LF>.<CR><LF>"]
    conn.send("Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    assert conn.reply().startswith("250 2.0.0 Ok: queued as ")
    assert conn.reply() == "221 2.0.0 Bye"
    conn.close()


def test_forbid_no_only_logs(smtpd):
    conn = Raw(smtpd.ports["allow"])
    conn.send("EHLO client.example\r\nMAIL FROM:<f@b.test>\r\n")
    assert conn.reply().startswith("250-")
    assert conn.reply() == "250 2.1.0 Ok"
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()
    smtpd.wait_for_log(improper("EHLO", r"MAIL FROM:<f@b.test>\r\n"))


def test_reject_unauth_pipelining_at_data(smtpd):
    """The restriction refuses DATA when the message was sent ahead; a
    client that waits for the 354 is served."""
    conn = Raw(smtpd.ports["restrict"])
    assert conn.cmd("EHLO client.example").startswith("250-")
    assert conn.cmd("MAIL FROM:<f@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd(f"RCPT TO:<t@{HOST}>").startswith("250")
    conn.send("DATA\r\nSubject: early\r\n\r\nbody\r\n.\r\n")
    reply = conn.reply()
    assert reply == ("503 5.5.0 <unknown[127.0.0.1]>: Client host "
                     "rejected: Improper use of SMTP command pipelining"), \
        reply
    conn.close()
    smtpd.wait_for_log(r"\w+: reject: DATA from unknown\[127\.0\.0\.1\]"
                       r": 503 5\.5\.0 <unknown\[127\.0\.0\.1\]>: Client host "
                       r"rejected: Improper use of SMTP command pipelining")
    conn = Raw(smtpd.ports["restrict"])
    conn.cmd("HELO client.example")
    assert conn.cmd("MAIL FROM:<f@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd(f"RCPT TO:<t@{HOST}>").startswith("250")
    assert conn.cmd("DATA").startswith("354")
    assert conn.cmd("Subject: ok\r\n\r\nbody\r\n.").startswith("250")
    conn.close()


def test_escaped_input_in_log(smtpd):
    conn = Raw(smtpd.ports["main"])
    conn.send("NOOP\r\n\x01\xff\\x\r\n")
    assert conn.reply() == SYNC
    conn.close()
    smtpd.wait_for_log(improper("NOOP", r"\001\377\134x\r\n"))


def test_queue_minfree(smtpd):
    conn = Raw(smtpd.ports["minfree"])
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<g@b.test>") == \
        "452 4.3.1 Insufficient system storage"
    conn.close()
    smtpd.wait_for_log(r"warning: not enough free space in mail queue: "
                       r"\d+ bytes < 1000000000000000 ")
    smtpd.wait_for_log(r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]:"
                       r" 452 4\.3\.1 Insufficient system storage; "
                       r"from=<g@b\.test> proto=ESMTP "
                       r"helo=<client\.example>\n")


def test_size_that_would_not_fit(smtpd):
    conn = Raw(smtpd.ports["main"])
    assert conn.cmd("EHLO client.example").startswith("250")
    # Under message_size_limit's SIZE check would be 552; unlimited here
    # means only the file system's free space decides.
    assert conn.cmd("MAIL FROM:<h@b.test> SIZE=9000000") == "250 2.1.0 Ok"
    conn.close()
    conn = Raw(smtpd.ports["limit"])
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<h@b.test> SIZE=1001") == \
        "552 5.3.4 Message size exceeds fixed limit"
    assert conn.cmd("MAIL FROM:<h@b.test> SIZE=1000") == "250 2.1.0 Ok"
    conn.close()


def rcpt(smtpd, service, addr):
    conn = Raw(smtpd.ports[service])
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    reply = conn.cmd(f"RCPT TO:<{addr}>")
    conn.close()
    return reply


def test_missing_local_table_defers(smtpd):
    assert rcpt(smtpd, "missing", "joe@mail.example.test") == \
        "451 4.3.0 <joe@mail.example.test>: Temporary lookup failure"
    smtpd.wait_for_log(r"warning: local_recipient_maps: texthash:\S+"
                       r"no-such-table is unavailable\. ")
    smtpd.wait_for_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]:"
                       r" 451 4\.3\.0 <joe@mail\.example\.test>: Temporary "
                       r"lookup failure; from=<a@b\.test> "
                       r"to=<joe@mail\.example\.test>")


def test_missing_relay_table_defers(smtpd):
    assert rcpt(smtpd, "relay", "x@relay.example") == \
        "451 4.3.0 <x@relay.example>: Temporary lookup failure"


def test_unsupported_types_are_skipped(smtpd):
    assert rcpt(smtpd, "unsupported", "joe@mail.example.test") == \
        "250 2.1.5 Ok"
    assert rcpt(smtpd, "unsupported", "nobody@mail.example.test") == \
        ("550 5.1.1 <nobody@mail.example.test>: Recipient address "
         "rejected: User unknown in local recipient table")
    smtpd.wait_for_log(r"warning: local_recipient_maps: table "
                       r"\"proxy:unix:passwd\.byname\" is not implemented")
