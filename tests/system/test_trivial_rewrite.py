"""The trivial-rewrite service on a real instance, through private/rewrite.

Expected answers were recorded from Debian's Postfix 3.7 trivial-rewrite
with the same main.cf settings and transport table (its -S mode, one
request per run); flags are written with Postern's bits (resolve.h):
local 1, virtual alias 2, virtual mailbox 4, relay 8, default 16,
routed 0x100, bad address 0x200, table failure 0x400.
"""
import socket
import time

import pytest

from postern_proto import Reader, encode_attrs

MASTER_CF = "rewrite unix - - n - - trivial-rewrite\n"

LOCAL, ALIAS, VIRTUAL, RELAY, DEFAULT = 1, 2, 4, 8, 16
ROUTED, ERROR, FAIL = 0x100, 0x200, 0x400

TRANSPORT = """\
full@tm.example     smtp:[10.0.0.1]:2525
tm.example          local:
.tm.example         :sub.nexthop
err.example         error:5.1.1 mailbox gone
colon.example       :
"""

RESOLVE_CASES = [
    ("user@mail.example.test", LOCAL, "local", "mail.example.test",
     "user@mail.example.test"),
    ("user", LOCAL, "local", "mail.example.test", "user@mail.example.test"),
    ("", LOCAL, "local", "mail.example.test",
     "MAILER-DAEMON@mail.example.test"),
    ("u@[127.0.0.1]", LOCAL, "local", "mail.example.test", "u@[127.0.0.1]"),
    ("u@valias.example", ALIAS, "error",
     "5.1.1 User unknown in virtual alias table", "u@valias.example"),
    ("u@vmbox.example", VIRTUAL, "virtual", "vmbox.example",
     "u@vmbox.example"),
    ("u@relay.example", RELAY, "relay", "[relay.host]:587",
     "u@relay.example"),
    ("u@other.example", DEFAULT, "smtp", "[relay.host]:587",
     "u@other.example"),
    ("full@tm.example", DEFAULT, "smtp", "[10.0.0.1]:2525",
     "full@tm.example"),
    ("other@tm.example", DEFAULT, "local", "tm.example", "other@tm.example"),
    ("x@a.tm.example", DEFAULT, "smtp", "sub.nexthop", "x@a.tm.example"),
    ("x@err.example", DEFAULT, "error", "5.1.1 mailbox gone",
     "x@err.example"),
    ("u@colon.example", DEFAULT, "smtp", "[relay.host]:587",
     "u@colon.example"),
    ("other!u@mail.example.test", DEFAULT, "smtp", "[relay.host]:587",
     "u@other"),
    ("u@x@y.example", DEFAULT | ROUTED, "smtp", "[relay.host]:587",
     "u@x@y.example"),
    ("user@192.0.2.2", DEFAULT | ERROR, "error", "5.1.3 bad address syntax",
     "user@192.0.2.2"),
]

REWRITE_CASES = [
    ("local", "user", "user@mail.example.test"),
    ("local", "user@host", "user@host"),
    ("local", "", ""),
    ("remote", "user", "user"),
    ("local", "a!b", "b@a"),
    ("remote", "a!b", "b@a"),
    ("local", "u%h", "u@h"),
    ("local", "@a,@b:u@c", "u@c"),
]


class RewriteClient:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.reader = Reader(self.sock)
        self.greeting = self.reader.attrs()

    def send(self, attrs):
        self.sock.sendall(encode_attrs(attrs))

    def reply(self):
        return self.reader.attrs()

    def resolve(self, addr, sender=""):
        self.send({"request": "resolve", "sender": sender, "address": addr})
        return self.reply()

    def rewrite(self, rule, addr):
        self.send({"request": "rewrite", "rule": rule, "address": addr})
        return self.reply()

    def close(self):
        self.sock.close()


def start(instance, **params):
    (instance.etc / "transport").write_text(TRANSPORT)
    base = {
        "mydestination": "$myhostname, localhost",
        "virtual_alias_domains": "valias.example",
        "virtual_mailbox_domains": "vmbox.example",
        "relay_domains": "relay.example",
        "relayhost": "[relay.host]:587",
        "transport_maps": f"texthash:{instance.etc}/transport",
    }
    base.update(params)
    instance.write_main(**base)
    instance.write_master(MASTER_CF)
    proc = instance.postfix("start")
    assert proc.returncode == 0, proc.stderr + instance.log()
    sock = instance.queue / "private" / "rewrite"
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, instance.log()
        time.sleep(0.05)
    return sock


def test_resolve_and_rewrite_on_one_connection(instance):
    client = RewriteClient(start(instance))
    try:
        assert client.greeting == {"protocol": "trivial-rewrite",
                                   "version": 1}
        for addr, flags, transport, nexthop, recipient in RESOLVE_CASES:
            assert client.resolve(addr) == {
                "status": 0, "flags": flags, "transport": transport,
                "nexthop": nexthop, "recipient": recipient}, addr
        for rule, addr, expected in REWRITE_CASES:
            assert client.rewrite(rule, addr) == {
                "status": 0, "flags": 0, "address": expected}, addr
    finally:
        client.close()


def test_pipelined_requests(instance):
    """Requests sent in one write, answered in order."""
    client = RewriteClient(start(instance))
    try:
        batch = b"".join(
            encode_attrs({"request": "resolve", "address": addr})
            for addr, *_ in RESOLVE_CASES)
        client.sock.sendall(batch)
        for addr, flags, transport, nexthop, recipient in RESOLVE_CASES:
            reply = client.reply()
            assert (reply["flags"], reply["transport"], reply["nexthop"],
                    reply["recipient"]) == (flags, transport, nexthop,
                                            recipient), addr
    finally:
        client.close()


@pytest.mark.parametrize("request_attrs, reason", [
    ({"request": "explode", "address": "u@x"}, 'unknown request "explode"'),
    ({"request": "rewrite", "rule": "sideways", "address": "u@x"},
     'unknown rewrite rule "sideways"'),
    ({"request": "resolve"}, "missing attribute address"),
    ({"address": "u@x"}, "missing attribute request"),
    ({"request": "resolve", "address": 7}, "attribute address: wrong type"),
    ({"request": "resolve", "address": "u" * 5000 + "@x"},
     "address longer than 4096 bytes"),
])
def test_bad_request_drops_only_that_client(instance, request_attrs,
                                            reason):
    sock = start(instance)
    good = RewriteClient(sock)
    bad = RewriteClient(sock)
    try:
        bad.send(request_attrs)
        with pytest.raises(EOFError):
            bad.reply()
        instance.wait_for_log(
            r"postfix/trivial-rewrite\[\d+\]: warning: rewrite: bad request: "
            + reason.replace("(", r"\(").replace(")", r"\)")
            + "; closing connection")
        assert good.resolve("u@vmbox.example")["transport"] == "virtual"
    finally:
        good.close()
        bad.close()


def test_garbage_bytes_drop_the_client(instance):
    sock = start(instance)
    bad = RewriteClient(sock)
    try:
        bad.sock.sendall(b"x\x05hello.")
        with pytest.raises(EOFError):
            bad.reply()
        instance.wait_for_log(r"warning: rewrite: bad request: .*; "
                              "closing connection")
        again = RewriteClient(sock)
        assert again.rewrite("local", "u")["address"] == \
            "u@mail.example.test"
        again.close()
    finally:
        bad.close()


def test_unavailable_table_fails_softly(instance):
    sock = start(instance, transport_maps=f"texthash:{instance.etc}/none")
    client = RewriteClient(sock)
    try:
        reply = client.resolve("u@other.example")
        assert reply["flags"] == DEFAULT | FAIL
        instance.wait_for_log(
            r"warning: texthash:\S+/none is unavailable\. open database "
            r"\S+/none: No such file or directory")
        # A rewrite does not need the table.
        assert client.rewrite("local", "u")["address"] == \
            "u@mail.example.test"
    finally:
        client.close()
