"""smtpd's access policy end to end: restriction lists on a real instance.

Each master.cf service runs smtpd with its own -o restriction lists; access
tables and recipient tables are texthash files in the instance. 127.0.0.1
is outside mynetworks (192.0.2.0/24). Expected replies are Postfix 3.7's
wording (Debian's Postfix 3.7.11 on a throw-away instance for the
recipient-table and relay replies), e.g.:
    504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname
    550 5.1.1 <y@valias.example>: Recipient address rejected: User unknown
        in virtual alias table
    NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <...>: ...;
        from=<a@b.example> to=<...> proto=ESMTP helo=<foo>
"""
import re

import pytest

from instance import can_connect, free_port, RawSMTP, wait_until

HOST = "mail.example.test"

SERVICES = {
    "main": [],
    "helo": ["smtpd_helo_restrictions=reject_invalid_helo_hostname,"
             "reject_non_fqdn_helo_hostname"],
    "nodelay": ["smtpd_delay_reject=no",
                "smtpd_helo_restrictions=reject_non_fqdn_helo_hostname",
                "smtpd_sender_restrictions=reject_non_fqdn_sender"],
    "client": ["smtpd_client_restrictions=check_client_access,"
               "texthash:{etc}/client_access"],
    "warn": ["smtpd_helo_restrictions=warn_if_reject,"
             "reject_non_fqdn_helo_hostname"],
    "dip": ["smtpd_client_restrictions=defer_if_permit"],
    "data": ["smtpd_data_restrictions=reject"],
    "nested": ["smtpd_sender_restrictions=check_sender_access,"
               "texthash:{etc}/sender_access"],
}

MAIN = {
    "mynetworks": "192.0.2.0/24",
    "recipient_delimiter": "+",
    "smtpd_error_sleep_time": "0",
    "smtpd_hard_error_limit": "100",
    "local_recipient_maps": "texthash:{etc}/local",
    "relay_domains": "relay.example",
    "relay_recipient_maps": "texthash:{etc}/relay",
    "virtual_alias_domains": "valias.example",
    "virtual_alias_maps": "texthash:{etc}/valias",
    "virtual_mailbox_domains": "vmbox.example",
    "virtual_mailbox_maps": "texthash:{etc}/vmbox",
    "smtpd_sender_restrictions": "reject_non_fqdn_sender",
    "smtpd_recipient_restrictions":
        "check_recipient_access texthash:{etc}/rcpt_access, "
        "reject_non_fqdn_recipient",
}

TABLES = {
    "local": "joe x\nwarned x\ndip x\n",
    "relay": "bob@relay.example x\n",
    "valias": "carol@valias.example joe@" + HOST + "\n",
    "vmbox": "dave@vmbox.example x\n",
    "rcpt_access": "blocked@" + HOST + " REJECT no thanks\n"
                   "later@" + HOST + " 450 4.2.0 come back later\n"
                   "warned@" + HOST + " WARN watch this\n"
                   "ok@elsewhere.example OK\n"
                   "dip@" + HOST + " DEFER_IF_PERMIT not now\n",
    "client_access": "127.0.0.1 REJECT go away\n",
    "sender_access": "nested@b.example reject_non_fqdn_helo_hostname\n"
                     "tabled@b.example check_helo_access texthash:/x\n",
}


@pytest.fixture(scope="module")
def inst(tmp_path_factory, mail_owner):
    from instance import Instance

    inst = Instance(tmp_path_factory.mktemp("access") / "postern",
                    mail_owner=mail_owner)
    etc = str(inst.etc)
    for name, text in TABLES.items():
        (inst.etc / name).write_text(text)
    inst.write_main(**{k: v.format(etc=etc) for k, v in MAIN.items()})
    inst.ports = {name: free_port() for name in SERVICES}
    master = "cleanup unix n - n - 0 cleanup\n"
    for name, overrides in SERVICES.items():
        master += f"127.0.0.1:{inst.ports[name]} inet n - n - - smtpd\n"
        master += "".join(f"  -o {o.format(etc=etc)}\n" for o in overrides)
    inst.write_master(master)
    proc = inst.postfix("start")
    assert proc.returncode == 0, proc.stderr + inst.log()
    for port in inst.ports.values():
        wait_until(lambda: can_connect(port))
    try:
        RawSMTP(inst.ports["main"], timeout=5).close()
    except OSError:
        pytest.fail("smtpd does not answer:\n" + inst.log())
    yield inst
    inst.cleanup()


def wait_log(inst, text):
    """Wait for a literal log fragment (wait_for_log takes a regex)."""
    return inst.wait_for_log(re.escape(text))


def session(inst, service, helo="EHLO client.example", sender="a@b.example"):
    conn = RawSMTP(inst.ports[service])
    assert conn.cmd(helo).startswith("250")
    if sender is not None:
        assert conn.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 Ok"
    return conn


def rcpt(conn, addr):
    return conn.cmd(f"RCPT TO:<{addr}>")


@pytest.mark.parametrize("addr,reply", [
    ("joe@" + HOST, "250 2.1.5 Ok"),
    ("joe+ext@" + HOST, "250 2.1.5 Ok"),
    ("nobody@" + HOST, "550 5.1.1 <nobody@mail.example.test>: Recipient "
     "address rejected: User unknown in local recipient table"),
    ("bob@relay.example", "250 2.1.5 Ok"),
    ("x@relay.example", "550 5.1.1 <x@relay.example>: Recipient address "
     "rejected: User unknown in relay recipient table"),
    ("carol@valias.example", "250 2.1.5 Ok"),
    ("y@valias.example", "550 5.1.1 <y@valias.example>: Recipient address "
     "rejected: User unknown in virtual alias table"),
    ("dave@vmbox.example", "250 2.1.5 Ok"),
    ("z@vmbox.example", "550 5.1.1 <z@vmbox.example>: Recipient address "
     "rejected: User unknown in virtual mailbox table"),
    ("blocked@" + HOST, "554 5.7.1 <blocked@mail.example.test>: Recipient "
     "address rejected: no thanks"),
    ("later@" + HOST, "450 4.2.0 <later@mail.example.test>: Recipient "
     "address rejected: come back later"),
    ("dip@" + HOST, "450 4.7.1 <dip@mail.example.test>: Recipient "
     "address rejected: not now"),
    ("z@other.example", "454 4.7.1 <z@other.example>: Relay access denied"),
    ("ok@elsewhere.example", "454 4.7.1 <ok@elsewhere.example>: Relay "
     "access denied"),
    ("user", "504 5.1.3 <user>: Recipient address rejected: need "
     "fully-qualified address"),
])
def test_recipient_tables_and_access(inst, addr, reply):
    conn = session(inst, "main")
    assert rcpt(conn, addr) == reply
    conn.close()


def test_reject_is_logged_as_postfix_does(inst):
    conn = session(inst, "main", helo="EHLO foo.example")
    rcpt(conn, "nobody@" + HOST)
    conn.cmd("QUIT")
    conn.close()
    wait_log(inst, 
        "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 "
        "<nobody@mail.example.test>: Recipient address rejected: User "
        "unknown in local recipient table; from=<a@b.example> "
        "to=<nobody@mail.example.test> proto=ESMTP helo=<foo.example>")


def test_warn_action_logs_and_accepts(inst):
    conn = session(inst, "main")
    assert rcpt(conn, "warned@" + HOST) == "250 2.1.5 Ok"
    conn.close()
    wait_log(inst, "warn: RCPT from unknown[127.0.0.1]: watch this;")


def test_sender_rejected_at_rcpt_with_delay_reject(inst):
    conn = session(inst, "main", sender="user")
    assert rcpt(conn, "joe@" + HOST) == (
        "504 5.1.7 <user>: Sender address rejected: need fully-qualified "
        "address")
    conn.close()


@pytest.mark.parametrize("helo,reply", [
    ("EHLO foo", "504 5.5.2 <foo>: Helo command rejected: need "
     "fully-qualified hostname"),
    ("EHLO bad_name!.example", "501 5.5.2 <bad_name!.example>: Helo "
     "command rejected: Invalid name"),
    ("EHLO [127.0.0.1]", "250 2.1.5 Ok"),
    ("EHLO client.example.", "250 2.1.5 Ok"),
])
def test_helo_restrictions_delayed_to_rcpt(inst, helo, reply):
    conn = session(inst, "helo", helo=helo)
    assert rcpt(conn, "joe@" + HOST) == reply
    conn.close()


def test_no_delay_rejects_at_helo_and_mail(inst):
    conn = RawSMTP(inst.ports["nodelay"])
    assert conn.cmd("EHLO foo") == ("504 5.5.2 <foo>: Helo command "
                                    "rejected: need fully-qualified hostname")
    assert conn.cmd("EHLO foo.example").startswith("250")
    assert conn.cmd("MAIL FROM:<user>") == (
        "504 5.1.7 <user>: Sender address rejected: need fully-qualified "
        "address")
    assert conn.cmd("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok"
    conn.close()


def test_client_access_rejects_every_rcpt(inst):
    conn = session(inst, "client")
    for _ in range(2):
        assert rcpt(conn, "joe@" + HOST) == (
            "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: go away")
    conn.close()


def test_warn_if_reject_logs_and_accepts(inst):
    conn = session(inst, "warn", helo="EHLO foo")
    assert rcpt(conn, "joe@" + HOST) == "250 2.1.5 Ok"
    conn.close()
    wait_log(inst, 
        "NOQUEUE: reject_warning: RCPT from unknown[127.0.0.1]: 504 5.5.2 "
        "<foo>: Helo command rejected: need fully-qualified hostname;")


def test_defer_if_permit_defers_what_would_pass(inst):
    conn = session(inst, "dip")
    assert rcpt(conn, "joe@" + HOST) == (
        "450 4.7.1 <unknown[127.0.0.1]>: Client host rejected: "
        "defer_if_permit requested")
    assert rcpt(conn, "z@other.example") == (
        "454 4.7.1 <z@other.example>: Relay access denied")
    conn.close()


def test_data_restrictions(inst):
    conn = session(inst, "data")
    assert rcpt(conn, "joe@" + HOST) == "250 2.1.5 Ok"
    assert conn.cmd("DATA") == ("554 5.7.1 <DATA>: Data command rejected: "
                                "Access denied")
    conn.close()


def test_access_result_restriction_list(inst):
    conn = session(inst, "nested", helo="EHLO foo", sender="nested@b.example")
    assert rcpt(conn, "joe@" + HOST) == (
        "504 5.5.2 <foo>: Helo command rejected: need fully-qualified "
        "hostname")
    conn.close()
    conn = session(inst, "nested", sender="tabled@b.example")
    assert rcpt(conn, "joe@" + HOST) == "451 4.3.5 Server configuration error"
    conn.close()
    wait_log(inst, "has a lookup table; define a restriction class")
