"""smtpd's DNS-based policy end to end: the client's reverse name, DNS
blocklists and allowlists, and the reject_unknown_* restrictions.

Debian's dnsmasq (package dnsmasq-base) serves the test zones on 127.0.0.1
and a free port; each smtpd service points at it with dns_resolver_conf
(Postern's own parameter: a resolv.conf whose "nameserver 127.0.0.1#PORT"
names the port). Two zones: "good", where 127.0.0.1's PTR is client.test
and client.test has A 127.0.0.1, and "forged", where the PTR says
forged.test but forged.test points elsewhere. A third resolver is a UDP
socket that never answers ("options timeout:1 attempts:1"): every lookup
fails temporarily. The client is always 127.0.0.1, outside mynetworks.

Expected replies and log lines are Postfix 3.7's wording (the strings in
Debian's /usr/lib/postfix/sbin/smtpd, the default_rbl_reply of postconf -d
and postconf(5)), e.g.:
    554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using
        zen.test; Error: open relay
    450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]
    450 4.1.8 <s@none.test>: Sender address rejected: Domain not found
    550 5.7.27 <s@nullmx.test>: Sender address rejected: Domain nullmx.test
        does not accept mail (nullMX)
    warning: hostname forged.test does not resolve to address 127.0.0.1
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from instance import can_connect, free_port, RawSMTP, wait_until

DNSMASQ = "/usr/sbin/dnsmasq"
HOST = "mail.example.test"
LOCAL = "joe@" + HOST

COMMON = ["--no-resolv", "--no-hosts", "--conf-file=/dev/null",
          "--pid-file=", "--bind-interfaces", "--listen-address=127.0.0.1",
          "--local=/test/", "--local=/127.in-addr.arpa/"]

GOOD = [
    "--ptr-record=1.0.0.127.in-addr.arpa,client.test",
    "--host-record=client.test,127.0.0.1",
    # DNSBL and DNSWL entries for 127.0.0.1.
    "--host-record=1.0.0.127.zen.test,127.0.0.2",
    "--txt-record=1.0.0.127.zen.test,Error: open relay",
    "--host-record=1.0.0.127.other.test,127.0.0.10",
    "--host-record=1.0.0.127.dollar.test,127.0.0.2",
    "--txt-record=1.0.0.127.dollar.test,pay $5 ${rbl_code}",
    "--host-record=1.0.0.127.wl.test,127.0.10.1",
    # RHSBL entries.
    "--host-record=client.test.dbl.test,127.0.1.2",
    "--host-record=bad.test.dbl.test,127.0.1.2",
    "--txt-record=bad.test.dbl.test,bad domain",
    # Mail domains.
    "--mx-host=good.test,mx.good.test,10",
    "--host-record=mx.good.test,192.0.2.1",
    "--host-record=aonly.test,192.0.2.2",
    "--host-record=v6only.test,2001:db8::2",
    "--mx-host=nullmx.test,.,0",
    "--host-record=bad.test,192.0.2.3",
]

FORGED = [
    "--ptr-record=1.0.0.127.in-addr.arpa,forged.test",
    "--host-record=forged.test,192.0.2.7",
    "--host-record=forged.test.dbl.test,127.0.1.2",
]

GOOD_SERVICES = {
    "main": [],
    "nolookup": ["smtpd_peername_lookup=no",
                 "smtpd_client_restrictions="
                 "reject_unknown_reverse_client_hostname"],
    "access": ["smtpd_client_restrictions=check_client_access,"
               "texthash:{etc}/client_access"],
    "system": ["dns_resolver_conf=",
               "smtpd_client_restrictions=check_client_access,"
               "texthash:{etc}/system_access"],
    "rbl": ["smtpd_client_restrictions=reject_rbl_client,zen.test"],
    "rblmiss": ["smtpd_client_restrictions=reject_rbl_client,"
                "other.test=127.0.0.2,reject_rbl_client,none.test"],
    "rblrange": ["smtpd_client_restrictions=reject_rbl_client,"
                 "other.test=127.0.0.[1;9..11]"],
    "rblmap": ["rbl_reply_maps=texthash:{etc}/rbl_reply",
               "smtpd_client_restrictions=reject_rbl_client,zen.test"],
    "rbldollar": ["smtpd_client_restrictions=reject_rbl_client,"
                  "dollar.test"],
    "rblbad": ["rbl_reply_maps=texthash:{etc}/rbl_reply",
               "smtpd_client_restrictions=reject_rbl_client,other.test"],
    "rblwarn": ["smtpd_client_restrictions=warn_if_reject,"
                "reject_rbl_client,zen.test"],
    "rblnoarg": ["smtpd_client_restrictions=reject_rbl_client"],
    "dnswl": ["smtpd_client_restrictions=permit_dnswl_client,wl.test,"
              "reject"],
    "dnswlmiss": ["smtpd_client_restrictions=permit_dnswl_client,"
                  "zen.test=127.0.0.9,reject"],
    "dnswlrelay": ["smtpd_relay_restrictions=permit_dnswl_client,wl.test,"
                   "reject_unauth_destination"],
    "rhsbl": ["smtpd_client_restrictions=reject_rhsbl_client,dbl.test"],
    "rhsbl3": ["smtpd_helo_restrictions=reject_rhsbl_helo,dbl.test",
               "smtpd_sender_restrictions=reject_rhsbl_sender,dbl.test",
               "smtpd_relay_restrictions=",
               "smtpd_recipient_restrictions=reject_rhsbl_recipient,"
               "dbl.test,reject_unauth_destination"],
    "unknown": ["relay_domains=good.test,aonly.test,v6only.test,none.test,"
                "nullmx.test",
                "smtpd_sender_restrictions=reject_unknown_sender_domain",
                "smtpd_recipient_restrictions="
                "reject_unknown_recipient_domain"],
    "unknown550": ["unknown_address_reject_code=550",
                   "smtpd_sender_restrictions=reject_unknown_sender_domain"],
    "helo": ["smtpd_helo_restrictions=reject_unknown_helo_hostname"],
    "client": ["smtpd_client_restrictions=reject_unknown_client_hostname"],
}

FORGED_SERVICES = {
    "forged": ["unknown_client_reject_code=550",
               "smtpd_client_restrictions=reject_unknown_client_hostname"],
    "forgedrev": ["smtpd_client_restrictions="
                  "reject_unknown_reverse_client_hostname,"
                  "reject_rhsbl_client,dbl.test,"
                  "reject_rhsbl_reverse_client,dbl.test"],
}

SILENT_SERVICES = {
    "silentclient": ["unknown_client_reject_code=550",
                     "smtpd_client_restrictions="
                     "reject_unknown_client_hostname"],
    "silentrev": ["unknown_client_reject_code=550",
                  "smtpd_client_restrictions="
                  "reject_unknown_reverse_client_hostname"],
    "silentsender": ["unknown_address_reject_code=550",
                     "smtpd_sender_restrictions="
                     "reject_unknown_sender_domain"],
    "silentdefer": ["unknown_helo_hostname_tempfail_action=defer",
                    "smtpd_helo_restrictions=reject_unknown_helo_hostname"],
    "silentrbl": ["smtpd_client_restrictions=reject_rbl_client,zen.test,"
                  "permit_dnswl_client,wl.test,reject_unauth_destination"],
}

MAIN = {
    "smtpd_peername_lookup": "yes",
    "mynetworks": "192.0.2.0/24",
    "local_recipient_maps": "",
    "smtpd_error_sleep_time": "0",
    "smtpd_hard_error_limit": "100",
}

def system_name(addr="127.0.0.1"):
    """The verified name the C library gives addr (/etc/hosts, DNS), or
    "unknown": what smtpd must find without dns_resolver_conf."""
    try:
        name = socket.gethostbyaddr(addr)[0]
        infos = socket.getaddrinfo(name, None, socket.AF_INET)
    except OSError:
        return "unknown"
    return name if any(i[4][0] == addr for i in infos) else "unknown"


SYSTEM_NAME = system_name()

TABLES = {
    "client_access": "client.test REJECT known by name\n",
    "system_access": f"{SYSTEM_NAME} REJECT system name\n",
    "rbl_reply": "zen.test 550 5.7.2 $client_name is listed at $rbl_domain:"
                 " $rbl_reason ($rbl_what, $rbl_class, $helo_name,"
                 " $sender_name at $sender_domain)\n"
                 "other.test go away\n",
}


def dns_query(port, name, qtype=1):
    """Send one query; the reply bytes, or None on timeout."""
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    msg = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + qname + \
        b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.sendto(msg, ("127.0.0.1", port))
        try:
            return sock.recv(4096)
        except socket.timeout:
            return None


def free_udp_port():
    """A loopback port free for both UDP and TCP."""
    while True:
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class Dnsmasq:
    def __init__(self, records, log):
        self.port = free_udp_port()
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [DNSMASQ, "-k", f"--port={self.port}", "--log-facility=-",
             *COMMON, *records],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while dns_query(self.port, "client.test") is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"dnsmasq did not start: see {log}:\n"
                            + open(log).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


def resolv_conf(path, port):
    path.write_text(f"# test resolver\nnameserver 127.0.0.1#{port}\n"
                    "options timeout:1 attempts:1\n")
    return str(path)


@pytest.fixture(scope="module")
def inst(tmp_path_factory, mail_owner):
    from instance import Instance

    if not os.access(DNSMASQ, os.X_OK):
        pytest.fail(f"{DNSMASQ} not found: install Debian's dnsmasq-base "
                    "(scripts/deps.sh lists it)")
    root = tmp_path_factory.mktemp("dns")
    good = Dnsmasq(GOOD, root / "dnsmasq-good.log")
    forged = Dnsmasq(FORGED, root / "dnsmasq-forged.log")
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    inst = Instance(root / "postern", mail_owner=mail_owner)
    etc = str(inst.etc)
    for name, text in TABLES.items():
        (inst.etc / name).write_text(text)
    confs = {
        "good": resolv_conf(inst.etc / "resolv.good", good.port),
        "forged": resolv_conf(inst.etc / "resolv.forged", forged.port),
        "silent": resolv_conf(inst.etc / "resolv.silent",
                              silent.getsockname()[1]),
    }
    inst.write_main(**MAIN)
    inst.ports = {}
    master = "cleanup unix n - n - 0 cleanup\n"
    for conf, services in (("good", GOOD_SERVICES),
                           ("forged", FORGED_SERVICES),
                           ("silent", SILENT_SERVICES)):
        for name, overrides in services.items():
            inst.ports[name] = port = free_port()
            master += f"127.0.0.1:{port} inet n - n - - smtpd\n"
            master += f"  -o dns_resolver_conf={confs[conf]}\n"
            master += "".join(f"  -o {o.format(etc=etc)}\n"
                              for o in overrides)
    inst.write_master(master)
    try:
        proc = inst.postfix("start")
        assert proc.returncode == 0, proc.stderr + inst.log()
        for port in inst.ports.values():
            wait_until(lambda: can_connect(port))
        yield inst
    finally:
        inst.cleanup()
        good.stop()
        forged.stop()
        silent.close()


def wait_log(inst, text):
    """Wait for a literal log fragment (wait_for_log takes a regex)."""
    return inst.wait_for_log(re.escape(text))


def session(inst, service, helo="EHLO client.test", sender="a@good.test"):
    conn = RawSMTP(inst.ports[service])
    assert conn.cmd(helo).startswith("250")
    if sender is not None:
        assert conn.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 Ok"
    return conn


def rcpt_reply(inst, service, rcpt=LOCAL, **kwargs):
    conn = session(inst, service, **kwargs)
    reply = conn.cmd(f"RCPT TO:<{rcpt}>")
    conn.cmd("QUIT")
    conn.close()
    return reply


# ---- the client's name ---------------------------------------------------

def test_verified_name_is_logged(inst):
    assert rcpt_reply(inst, "main") == "250 2.1.5 Ok"
    wait_log(inst, "connect from client.test[127.0.0.1]")
    wait_log(inst, "disconnect from client.test[127.0.0.1] ehlo=1 mail=1 "
                   "rcpt=1 quit=1 commands=4")


def test_access_table_sees_the_name(inst):
    assert rcpt_reply(inst, "access") == (
        "554 5.7.1 <client.test[127.0.0.1]>: Client host rejected: "
        "known by name")
    wait_log(inst, "NOQUEUE: reject: RCPT from client.test[127.0.0.1]: "
                   "554 5.7.1 <client.test[127.0.0.1]>: Client host "
                   "rejected: known by name; from=<a@good.test> "
                   f"to=<{LOCAL}> proto=ESMTP helo=<client.test>")


def test_system_resolver_without_dns_resolver_conf(inst):
    """Without dns_resolver_conf the name comes from the C library, so
    /etc/hosts counts, as for Postfix."""
    reply = rcpt_reply(inst, "system")
    if SYSTEM_NAME == "unknown":
        assert reply == "250 2.1.5 Ok"
    else:
        assert reply == (f"554 5.7.1 <{SYSTEM_NAME}[127.0.0.1]>: Client "
                         "host rejected: system name"), reply


def test_peername_lookup_off(inst):
    assert rcpt_reply(inst, "nolookup") == (
        "450 4.7.25 Client host rejected: cannot find your reverse "
        "hostname, [127.0.0.1]")
    assert "connect from unknown[127.0.0.1]" in inst.log()


def test_forged_name_is_unknown(inst):
    assert rcpt_reply(inst, "forged") == (
        "550 5.7.25 Client host rejected: cannot find your hostname, "
        "[127.0.0.1]")
    wait_log(inst, "warning: hostname forged.test does not resolve to "
                   "address 127.0.0.1\n")
    wait_log(inst, "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 "
                   "5.7.25 Client host rejected: cannot find your "
                   "hostname, [127.0.0.1];")


def test_forged_name_still_is_the_reverse_name(inst):
    # reject_unknown_reverse_client_hostname passes (there is a PTR),
    # reject_rhsbl_client skips the unknown name, and
    # reject_rhsbl_reverse_client uses the unverified one.
    assert rcpt_reply(inst, "forgedrev") == (
        "554 5.7.1 Service unavailable; Unverified Client host "
        "[forged.test] blocked using dbl.test")


def test_known_client_passes_reject_unknown_client(inst):
    assert rcpt_reply(inst, "client") == "250 2.1.5 Ok"


def test_temporary_failure_is_always_450(inst):
    for service, what in (("silentclient", ""), ("silentrev", "reverse ")):
        assert rcpt_reply(inst, service) == (
            f"450 4.7.25 Client host rejected: cannot find your {what}"
            "hostname, [127.0.0.1]")


# ---- DNS blocklists and allowlists ------------------------------------------

def test_rbl_client_with_txt(inst):
    assert rcpt_reply(inst, "rbl") == (
        "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked "
        "using zen.test; Error: open relay")
    wait_log(inst, "NOQUEUE: reject: RCPT from client.test[127.0.0.1]: 554 "
                   "5.7.1 Service unavailable; Client host [127.0.0.1] "
                   "blocked using zen.test; Error: open relay; "
                   f"from=<a@good.test> to=<{LOCAL}> proto=ESMTP "
                   "helo=<client.test>")


def test_rbl_filter_and_unlisted(inst):
    assert rcpt_reply(inst, "rblmiss") == "250 2.1.5 Ok"
    assert rcpt_reply(inst, "rblrange") == (
        "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked "
        "using other.test")


def test_rbl_reply_maps(inst):
    assert rcpt_reply(inst, "rblmap", sender="s@x.example") == (
        "550 5.7.2 client.test is listed at zen.test: Error: open relay "
        "(127.0.0.1, Client host, client.test, s at x.example)")


def test_rbl_txt_is_not_expanded(inst):
    assert rcpt_reply(inst, "rbldollar") == (
        "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked "
        "using dollar.test; pay $5 ${rbl_code}")


def test_rbl_bad_reply_template(inst):
    assert rcpt_reply(inst, "rblbad") == (
        "451 4.3.5 Server configuration error")
    wait_log(inst, "warning: rbl response code configuration error: "
                   "go away")


def test_rbl_warn_if_reject(inst):
    assert rcpt_reply(inst, "rblwarn") == "250 2.1.5 Ok"
    wait_log(inst, "NOQUEUE: reject_warning: RCPT from "
                   "client.test[127.0.0.1]: 554 5.7.1 Service unavailable; "
                   "Client host [127.0.0.1] blocked using zen.test; Error: "
                   "open relay;")


def test_rbl_without_domain(inst):
    assert rcpt_reply(inst, "rblnoarg") == "250 2.1.5 Ok"
    wait_log(inst, "warning: restriction reject_rbl_client requires "
                   "domain name argument")


def test_dnswl(inst):
    assert rcpt_reply(inst, "dnswl") == "250 2.1.5 Ok"
    assert rcpt_reply(inst, "dnswlmiss") == (
        "554 5.7.1 <client.test[127.0.0.1]>: Client host rejected: "
        "Access denied")


def test_dnswl_never_permits_relaying(inst):
    assert rcpt_reply(inst, "dnswlrelay", rcpt="x@other.example") == (
        "554 5.7.1 <x@other.example>: Relay access denied")
    assert rcpt_reply(inst, "dnswlrelay") == "250 2.1.5 Ok"


def test_rhsbl_client(inst):
    assert rcpt_reply(inst, "rhsbl") == (
        "554 5.7.1 Service unavailable; Client host [client.test] blocked "
        "using dbl.test")


@pytest.mark.parametrize("helo,sender,rcpt,reply", [
    ("EHLO bad.test", "a@good.test", LOCAL,
     "554 5.7.1 Service unavailable; Helo command [bad.test] blocked "
     "using dbl.test; bad domain"),
    ("EHLO good.test", "s@bad.test", LOCAL,
     "554 5.7.1 Service unavailable; Sender address [s@bad.test] blocked "
     "using dbl.test; bad domain"),
    ("EHLO good.test", "a@good.test", "r@bad.test",
     "554 5.7.1 Service unavailable; Recipient address [r@bad.test] "
     "blocked using dbl.test; bad domain"),
    ("EHLO good.test", "a@good.test", LOCAL, "250 2.1.5 Ok"),
])
def test_rhsbl_helo_sender_recipient(inst, helo, sender, rcpt, reply):
    assert rcpt_reply(inst, "rhsbl3", rcpt=rcpt, helo=helo,
                      sender=sender) == reply


def test_unreachable_dnsbl_is_logged_and_ignored(inst):
    # The lookups time out; the relay test still applies.
    assert rcpt_reply(inst, "silentrbl", rcpt="x@other.example") == (
        "554 5.7.1 <x@other.example>: Relay access denied")
    wait_log(inst, "warning: 1.0.0.127.zen.test: RBL lookup error: Host or "
                   "domain name not found. Name service error for "
                   "name=1.0.0.127.zen.test type=A: Host not found, try "
                   "again")


# ---- reject_unknown_* ----------------------------------------------------

@pytest.mark.parametrize("sender,rcpt,reply", [
    ("s@good.test", "r@good.test", "250 2.1.5 Ok"),
    ("s@aonly.test", "r@v6only.test", "250 2.1.5 Ok"),
    ("s@" + HOST, LOCAL, "250 2.1.5 Ok"),
    ("", "r@good.test", "250 2.1.5 Ok"),
    ("s@none.test", "r@good.test",
     "450 4.1.8 <s@none.test>: Sender address rejected: Domain not found"),
    ("s@nullmx.test", "r@good.test",
     "550 5.7.27 <s@nullmx.test>: Sender address rejected: Domain "
     "nullmx.test does not accept mail (nullMX)"),
    ("s@good.test", "r@none.test",
     "450 4.1.2 <r@none.test>: Recipient address rejected: Domain not "
     "found"),
    ("s@good.test", "r@nullmx.test",
     "556 5.1.10 <r@nullmx.test>: Recipient address rejected: Domain "
     "nullmx.test does not accept mail (nullMX)"),
])
def test_unknown_domains(inst, sender, rcpt, reply):
    assert rcpt_reply(inst, "unknown", rcpt=rcpt, sender=sender) == reply


def test_unknown_address_reject_code(inst):
    assert rcpt_reply(inst, "unknown550", sender="s@none.test") == (
        "550 5.1.8 <s@none.test>: Sender address rejected: Domain not found")


@pytest.mark.parametrize("helo,reply", [
    ("EHLO client.test", "250 2.1.5 Ok"),
    ("EHLO good.test", "250 2.1.5 Ok"),
    ("EHLO client.test.", "250 2.1.5 Ok"),
    ("EHLO [127.0.0.1]", "250 2.1.5 Ok"),
    ("EHLO nohost.test", "450 4.7.1 <nohost.test>: Helo command rejected: "
     "Host not found"),
])
def test_unknown_helo_hostname(inst, helo, reply):
    assert rcpt_reply(inst, "helo", helo=helo) == reply


def test_tempfail_defers_if_permit(inst):
    # A sender domain that cannot be looked up defers what would pass...
    assert rcpt_reply(inst, "silentsender", sender="s@none.test") == (
        "450 4.1.8 <s@none.test>: Sender address rejected: Domain not found")
    # ...but a rejection later in the lists wins.
    assert rcpt_reply(inst, "silentsender", sender="s@none.test",
                      rcpt="x@other.example") == (
        "454 4.7.1 <x@other.example>: Relay access denied")


def test_tempfail_action_defer(inst):
    assert rcpt_reply(inst, "silentdefer", helo="EHLO nohost.test",
                      rcpt="x@other.example") == (
        "450 4.7.1 <nohost.test>: Helo command rejected: Host not found")
