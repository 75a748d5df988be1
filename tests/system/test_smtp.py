"""The smtp and lmtp delivery agents end to end: a full instance (cleanup,
qmgr, bounce/defer/trace, smtp, lmtp) relays to peers run in this test
process: aiosmtpd's SMTP and LMTP servers, and small scripted socket
servers for the misbehaving peers (closed connections, stalls, garbage).

Log lines checked are Postfix's, for example:
    ID: to=<a@b>, relay=127.0.0.1[127.0.0.1]:PORT, delay=.., delays=..,
        dsn=2.0.0, status=sent (250 OK)
    ID: to=<x@b>, relay=..., dsn=5.1.1, status=bounced (host
        127.0.0.1[127.0.0.1] said: 550 5.1.1 no such user (in reply to
        RCPT TO command))
"""
import re
import socket
import threading
import time

import pytest

from instance import free_port, wait_until
from postern_proto import submit

import aiosmtpd  # noqa: F401  (scripts/deps.sh installs python3-aiosmtpd)
from aiosmtpd.controller import Controller, UnixSocketController  # noqa
from aiosmtpd.lmtp import LMTP  # noqa

MASTER_CF = """\
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
smtp unix - - n - - smtp
lmtp unix - - n - - lmtp
discard unix - - n - - discard
scache unix - - n - 1 scache
"""

DELIVERY_LINE = re.compile(
    r"(?P<id>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>, (?:orig_to=<[^>]*>, )?"
    r"relay=(?P<relay>[^,]+), (?:conn_use=(?P<conn_use>\d+), )?"
    r"delay=[0-9.]+, "
    r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=(?P<dsn>\d\.\d+\.\d+), "
    r"status=(?P<status>\w+) \((?P<reason>.*)\)$", re.M)

MESSAGE = ("Subject: relay test\n\nfirst line\n.leading dot\n..two dots\n"
           ".\nlast line\n")


class Recorder:
    """aiosmtpd handler: records envelopes; RCPT answers from a table."""

    def __init__(self, rcpt_replies=None):
        self.envelopes = []
        self.rcpt_replies = rcpt_replies or {}
        self.rcpt_calls = 0

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        self.rcpt_calls += 1
        reply = self.rcpt_replies.get(address)
        if callable(reply):
            reply = reply()
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos),
                               envelope.content))
        return "250 2.0.0 Ok: queued as TEST1"


class LmtpRecorder(Recorder):
    """LMTP: one reply per recipient after the dot."""

    def __init__(self, data_replies):
        super().__init__()
        self.data_replies = data_replies

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos),
                               envelope.content))
        return "\r\n".join(self.data_replies.get(r, "250 2.0.0 Saved")
                           for r in envelope.rcpt_tos)


class LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


class LmtpUnixController(UnixSocketController):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


class ScriptedPeer:
    """A TCP server running script(conn) for each connection, in a
    thread; script talks raw bytes. Records what the client sent."""

    def __init__(self, script):
        self.port = free_port()
        self.script = script
        self.received = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(20)
                try:
                    self.script(self, conn)
                except OSError:
                    pass

    def read_line(self, conn):
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(1)
            if not chunk:
                break
            data += chunk
        self.received.append(data)
        return data

    def read_some(self, conn):
        data = conn.recv(65536)
        self.received.append(data)
        return data

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def mta(instance):
    instance.write_main(
        mydestination="", default_transport="smtp",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s", transport_retry_time="1s",
        smtp_helo_name="client.example.test")
    instance.write_master(MASTER_CF)
    return instance


def start(inst, **params):
    inst.write_main(**params)
    inst.start()
    wait_until(lambda: (inst.queue / "public" / "cleanup").exists())


@pytest.fixture
def sink():
    handlers = []

    def make(handler=None, controller=Controller, **kwargs):
        handler = handler or Recorder()
        port = free_port()
        ctl = controller(handler, hostname="127.0.0.1", port=port,
                         **kwargs)
        ctl.start()
        handlers.append(ctl)
        return handler, port

    yield make
    for ctl in handlers:
        ctl.stop()


@pytest.fixture
def peers():
    started = []

    def make(script):
        peer = ScriptedPeer(script)
        started.append(peer)
        return peer

    yield make
    for peer in started:
        peer.stop()


def send(inst, sender, recipients, text=MESSAGE):
    rcpts = [(r, r, 0, None) for r in recipients]
    queue_id, reply = submit(inst.queue / "public" / "cleanup", sender,
                             rcpts, text)
    assert reply["status"] == 0, (reply, inst.log())
    return queue_id


def deliveries(inst, queue_id):
    return [m for m in DELIVERY_LINE.finditer(inst.log())
            if m["id"] == queue_id]


def wait_status(inst, queue_id, count=1, status=None, timeout=20):
    def done():
        lines = deliveries(inst, queue_id)
        if status is not None:
            lines = [m for m in lines if m["status"] == status]
        return len(lines) >= count
    assert wait_until(done, timeout), inst.log()
    return deliveries(inst, queue_id)


def wait_removed(inst, queue_id, timeout=20):
    try:
        inst.wait_for_log(rf"{queue_id}: removed", timeout)
    except AssertionError:
        raise AssertionError(inst.log()) from None


# ---------------------------------------------------------------------
# A well-behaved peer.

def test_relayhost_delivers_content_and_envelope(mta, sink):
    handler, port = sink()
    start(mta, relayhost=f"[127.0.0.1]:{port}")
    queue_id = send(mta, "alice@example.org",
                    ["bob@remote.test", "carol@remote.test"])
    wait_removed(mta, queue_id)
    assert len(handler.envelopes) == 1, mta.log()
    sender, rcpts, content = handler.envelopes[0]
    assert sender == "alice@example.org"
    assert rcpts == ["bob@remote.test", "carol@remote.test"]
    text = content.decode().replace("\r\n", "\n")
    # Dots came through unstuffed by the peer: the agent stuffed them.
    assert "\nfirst line\n.leading dot\n..two dots\n.\nlast line\n" in text
    lines = deliveries(mta, queue_id)
    assert [m["status"] for m in lines] == ["sent", "sent"], mta.log()
    for m in lines:
        assert m["relay"] == f"127.0.0.1[127.0.0.1]:{port}"
        assert m["dsn"] == "2.0.0"
        assert m["reason"] == "250 2.0.0 Ok: queued as TEST1"


def test_mixed_recipient_replies(mta, sink):
    handler, port = sink(Recorder({
        "bad@remote.test": "550 5.1.1 <bad@remote.test>: User unknown",
        "later@remote.test": "450 4.2.0 <later@remote.test>: try later",
    }))
    start(mta, relayhost=f"[127.0.0.1]:{port}")
    queue_id = send(mta, "alice@example.org",
                    ["good@remote.test", "bad@remote.test",
                     "later@remote.test"])
    lines = wait_status(mta, queue_id, 3)
    by_rcpt = {m["to"]: m for m in lines}
    assert by_rcpt["good@remote.test"]["status"] == "sent"
    assert by_rcpt["bad@remote.test"]["status"] == "bounced"
    assert by_rcpt["bad@remote.test"]["dsn"] == "5.1.1"
    assert by_rcpt["bad@remote.test"]["reason"] == (
        "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <bad@remote.test>: "
        "User unknown (in reply to RCPT TO command)")
    assert by_rcpt["later@remote.test"]["status"] == "deferred"
    assert by_rcpt["later@remote.test"]["dsn"] == "4.2.0"
    assert handler.envelopes[0][1] == ["good@remote.test"]


def test_4xx_defers_then_delivers(mta, sink):
    state = {"refusals": 2}

    def reply():
        if state["refusals"] > 0:
            state["refusals"] -= 1
            return "451 4.3.0 busy, try again"
        return None

    handler, port = sink(Recorder({"bob@remote.test": reply}))
    start(mta, relayhost=f"[127.0.0.1]:{port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    wait_removed(mta, queue_id, timeout=30)
    lines = deliveries(mta, queue_id)
    assert lines[0]["status"] == "deferred", mta.log()
    assert lines[0]["reason"] == (
        "host 127.0.0.1[127.0.0.1] said: 451 4.3.0 busy, try again "
        "(in reply to RCPT TO command)")
    assert lines[-1]["status"] == "sent"
    assert len(handler.envelopes) == 1


def test_fallback_relay_after_dead_host(mta, sink):
    handler, port = sink()
    dead = free_port()
    start(mta, relayhost=f"[127.0.0.1]:{dead}",
          smtp_fallback_relay=f"[127.0.0.1]:{port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    wait_removed(mta, queue_id)
    assert re.search(rf"postfix/smtp\[\d+\]: connect to 127.0.0.1"
                     rf"\[127.0.0.1\]:{dead}: Connection refused",
                     mta.log()), mta.log()
    line = deliveries(mta, queue_id)[-1]
    assert line["status"] == "sent"
    assert line["relay"] == f"127.0.0.1[127.0.0.1]:{port}"
    assert len(handler.envelopes) == 1


def test_unreachable_host_defers(mta):
    dead = free_port()
    start(mta, relayhost=f"[127.0.0.1]:{dead}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "deferred"
    assert line["dsn"] == "4.4.1"
    assert line["relay"] == "none" or line["relay"].startswith("127.0.0.1")
    assert line["reason"] == (f"connect to 127.0.0.1[127.0.0.1]:{dead}: "
                              "Connection refused")


# ---------------------------------------------------------------------
# Scripted peers.

def esmtp_hello(peer, conn, extensions=(b"PIPELINING",)):
    conn.sendall(b"220 peer.test ESMTP\r\n")
    peer.read_line(conn)
    ext = b"".join(b"250-" + e + b"\r\n" for e in extensions)
    conn.sendall(b"250-peer.test\r\n" + ext + b"250 8BITMIME\r\n")


def test_pipelining_sends_envelope_in_one_batch(mta, peers):
    def script(peer, conn):
        esmtp_hello(peer, conn, (b"PIPELINING", b"SIZE 1000000"))
        batch = b""
        while b"DATA\r\n" not in batch:
            chunk = peer.read_some(conn)
            if not chunk:
                return
            batch += chunk
        peer.batch = batch
        conn.sendall(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
                     b"354 go ahead\r\n")
        body = b""
        while not body.endswith(b"\r\n.\r\n"):
            chunk = peer.read_some(conn)
            if not chunk:
                return
            body += chunk
        peer.body = body
        conn.sendall(b"250 2.0.0 Ok: queued as PIPE1\r\n")
        peer.read_line(conn)

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}")
    queue_id = send(mta, "alice@example.org",
                    ["bob@remote.test", "carol@remote.test"])
    wait_removed(mta, queue_id)
    lines = peer.batch.split(b"\r\n")
    assert lines[0].startswith(b"MAIL FROM:<alice@example.org>")
    assert b" SIZE=" in lines[0]
    assert lines[1:4] == [b"RCPT TO:<bob@remote.test>",
                          b"RCPT TO:<carol@remote.test>", b"DATA"]
    assert b"\r\n..leading dot\r\n...two dots\r\n..\r\nlast line\r\n.\r\n" \
        in peer.body
    assert all(m["reason"] == "250 2.0.0 Ok: queued as PIPE1"
               for m in deliveries(mta, queue_id))
    assert b"EHLO client.example.test\r\n" in peer.received


def test_peer_closes_after_mail(mta, peers):
    def script(peer, conn):
        esmtp_hello(peer, conn, extensions=())
        peer.read_line(conn)  # MAIL FROM, then hang up

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "deferred"
    assert line["dsn"] == "4.4.2"
    assert line["reason"] == ("lost connection with 127.0.0.1[127.0.0.1] "
                              "while sending MAIL FROM")


def test_peer_stalls_after_the_dot(mta, peers):
    def script(peer, conn):
        esmtp_hello(peer, conn)
        data = b""
        while b"DATA\r\n" not in data:
            data += peer.read_some(conn)
        conn.sendall(b"250 Ok\r\n250 Ok\r\n354 go\r\n")
        while not data.endswith(b"\r\n.\r\n"):
            chunk = peer.read_some(conn)
            if not chunk:
                return
            data += chunk
        time.sleep(5)  # never answer the dot in time

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}",
          smtp_data_done_timeout="2s")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "deferred"
    assert line["reason"] == (
        "conversation with 127.0.0.1[127.0.0.1] timed out while sending "
        "end of data -- message may be sent more than once")


def test_greeting_without_line_end(mta, peers):
    def script(peer, conn):
        conn.sendall(b"220 no line end")

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "deferred"
    assert line["reason"] == ("lost connection with 127.0.0.1[127.0.0.1] "
                              "while receiving the initial server greeting")


def test_garbage_reply_is_a_protocol_error(mta, peers):
    def script(peer, conn):
        conn.sendall(b"220 peer.test ESMTP\r\n")
        peer.read_line(conn)
        conn.sendall(b"hello there\r\n")
        peer.read_line(conn)

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "deferred"
    assert line["dsn"] == "4.5.0"
    assert line["reason"] == (
        "protocol error with 127.0.0.1[127.0.0.1] while performing the "
        "EHLO handshake: malformed reply line: \"hello there\"")


def test_5xx_greeting_skipped_and_deferred(mta, peers):
    def script(peer, conn):
        conn.sendall(b"554 5.7.1 go away\r\n")
        peer.read_line(conn)

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "deferred"
    assert line["reason"] == ("host 127.0.0.1[127.0.0.1] refused to talk "
                              "to me: 554 5.7.1 go away")


def test_message_over_peer_size_limit_bounces(mta, peers):
    def script(peer, conn):
        esmtp_hello(peer, conn, extensions=(b"SIZE 10",))
        peer.read_line(conn)

    peer = peers(script)
    start(mta, relayhost=f"[127.0.0.1]:{peer.port}")
    queue_id = send(mta, "alice@example.org", ["bob@remote.test"])
    line = wait_status(mta, queue_id)[0]
    assert line["status"] == "bounced"
    assert line["dsn"] == "5.3.4"
    assert re.fullmatch(r"message size \d+ exceeds size limit 10 of server "
                        r"127\.0\.0\.1\[127\.0\.0\.1\]", line["reason"])


# ---------------------------------------------------------------------
# LMTP.

def test_lmtp_over_tcp_per_recipient_replies(mta, sink):
    handler, port = sink(LmtpRecorder({
        "full@lmtp.test": "452 4.2.2 <full@lmtp.test> mailbox full"}),
        controller=LmtpController)
    (mta.etc / "transport").write_text(
        f"lmtp.test lmtp:inet:127.0.0.1:{port}\n")
    start(mta, transport_maps=f"texthash:{mta.etc}/transport")
    queue_id = send(mta, "alice@example.org",
                    ["ok@lmtp.test", "full@lmtp.test"])
    lines = wait_status(mta, queue_id, 2)
    by_rcpt = {m["to"]: m for m in lines}
    assert by_rcpt["ok@lmtp.test"]["status"] == "sent", mta.log()
    assert by_rcpt["ok@lmtp.test"]["reason"] == "250 2.0.0 Saved"
    assert by_rcpt["ok@lmtp.test"]["relay"] == \
        f"127.0.0.1[127.0.0.1]:{port}"
    assert by_rcpt["full@lmtp.test"]["status"] == "deferred"
    assert by_rcpt["full@lmtp.test"]["reason"] == (
        "host 127.0.0.1[127.0.0.1] said: 452 4.2.2 <full@lmtp.test> "
        "mailbox full (in reply to end of DATA command)")
    assert re.search(r"postfix/lmtp\[\d+\]: " + queue_id, mta.log())


def test_lmtp_over_unix_socket(mta):
    handler = LmtpRecorder({})
    # Below the queue directory, named relative to it (as Postfix's
    # "unix:private/dovecot-lmtp"), so mail_owner can reach it when root
    # runs the tests.
    path = mta.queue / "lmtp.sock"
    mta.queue.mkdir(parents=True, exist_ok=True)
    ctl = LmtpUnixController(handler, unix_socket=str(path))
    ctl.start()
    path.chmod(0o666)
    try:
        (mta.etc / "transport").write_text("lmtp.test lmtp:unix:lmtp.sock\n")
        start(mta, transport_maps=f"texthash:{mta.etc}/transport")
        queue_id = send(mta, "alice@example.org", ["ok@lmtp.test"])
        wait_removed(mta, queue_id)
        line = deliveries(mta, queue_id)[0]
        assert line["status"] == "sent"
        assert line["relay"] == "mail.example.test[lmtp.sock]"
        assert handler.envelopes[0][1] == ["ok@lmtp.test"]
    finally:
        ctl.stop()


# ---------------------------------------------------------------------
# Connection reuse: an smtp process hands its connection to the scache
# service, and the next request to the same nexthop takes it from there,
# with RSET before the next MAIL. The destination is listed in
# smtp_connection_cache_destinations, so every connection is kept (on
# demand, only when qmgr sees more mail waiting: test_smtp_scache.py).

MASTER_CF_ONE_SMTP = MASTER_CF.replace("smtp unix - - n - - smtp",
                                       "smtp unix - - n - 1 smtp")


class CountingRecorder(Recorder):
    """Counts the agent's connections (one EHLO each) and RSETs; with
    close_after_data, hangs up shortly after each message."""

    def __init__(self, close_after_data=False):
        super().__init__()
        self.ehlo_count = 0
        self.rset_count = 0
        self.quit_count = 0
        self.close_after_data = close_after_data

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        self.ehlo_count += 1
        session.host_name = hostname
        return responses

    async def handle_RSET(self, server, session, envelope):
        self.rset_count += 1
        return "250 2.0.0 Ok"

    async def handle_QUIT(self, server, session, envelope):
        self.quit_count += 1
        return "221 2.0.0 Bye"

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.close_after_data:
            server.loop.call_later(0.2, server.transport.close)
        return reply


def send_many(inst, count):
    ids = [send(inst, "alice@example.org", [f"rcpt{i}@remote.test"])
           for i in range(count)]
    for queue_id in ids:
        wait_removed(inst, queue_id)
    return ids


def test_connection_reused_for_the_same_relayhost(mta, sink):
    handler, port = sink(CountingRecorder())
    mta.write_master(MASTER_CF_ONE_SMTP)
    start(mta, relayhost=f"[127.0.0.1]:{port}",
          smtp_connection_cache_destinations=f"[127.0.0.1]:{port}")
    ids = send_many(mta, 5)
    assert len(handler.envelopes) == 5, mta.log()
    assert sorted(e[1][0] for e in handler.envelopes) == \
        [f"rcpt{i}@remote.test" for i in range(5)]
    assert handler.ehlo_count < 5, mta.log()
    assert handler.rset_count == 5 - handler.ehlo_count
    lines = [m for queue_id in ids for m in deliveries(mta, queue_id)]
    assert [m["status"] for m in lines] == ["sent"] * 5, mta.log()
    uses = sorted(int(m["conn_use"] or 1) for m in lines)
    assert uses.count(1) == handler.ehlo_count
    assert max(uses) >= 2
    for m in lines:
        assert m["relay"] == f"127.0.0.1[127.0.0.1]:{port}"
    assert re.search(rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, "
                     r"conn_use=2, delay=", mta.log())


def test_reuse_count_limit(mta, sink):
    handler, port = sink(CountingRecorder())
    mta.write_master(MASTER_CF_ONE_SMTP)
    # A limit of N: a connection carries up to N+1 messages.
    start(mta, relayhost=f"[127.0.0.1]:{port}",
          smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
          smtp_connection_reuse_count_limit="2",
          smtp_connection_cache_time_limit="30s")
    ids = send_many(mta, 5)
    assert len(handler.envelopes) == 5, mta.log()
    assert handler.ehlo_count == 2, mta.log()
    uses = sorted(int(m["conn_use"] or 1)
                  for queue_id in ids for m in deliveries(mta, queue_id))
    assert uses == [1, 1, 2, 2, 3], mta.log()


def test_no_reuse_without_caching(mta, sink):
    handler, port = sink(CountingRecorder())
    mta.write_master(MASTER_CF_ONE_SMTP)
    start(mta, relayhost=f"[127.0.0.1]:{port}",
          smtp_connection_cache_on_demand="no")
    send_many(mta, 3)
    assert len(handler.envelopes) == 3, mta.log()
    assert handler.ehlo_count == 3
    assert handler.rset_count == 0
    assert "conn_use=" not in mta.log()


def test_kept_connection_closed_by_peer(mta, sink):
    handler, port = sink(CountingRecorder(close_after_data=True))
    mta.write_master(MASTER_CF_ONE_SMTP)
    start(mta, relayhost=f"[127.0.0.1]:{port}",
          smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
          smtp_connection_cache_time_limit="30s",
          connection_cache_ttl_limit="30s")
    first = send(mta, "alice@example.org", ["one@remote.test"])
    wait_removed(mta, first)
    time.sleep(1)  # the peer has hung up on the cached connection
    second = send(mta, "alice@example.org", ["two@remote.test"])
    wait_removed(mta, second)
    assert [e[1] for e in handler.envelopes] == [["one@remote.test"],
                                                 ["two@remote.test"]]
    assert handler.ehlo_count == 2
    lines = deliveries(mta, second)
    assert [m["status"] for m in lines] == ["sent"], mta.log()
    assert lines[0]["conn_use"] is None


def test_lone_message_ends_with_quit(mta, sink):
    handler, port = sink(CountingRecorder())
    mta.write_master(MASTER_CF_ONE_SMTP)
    start(mta, relayhost=f"[127.0.0.1]:{port}")
    queue_id = send(mta, "alice@example.org", ["one@remote.test"])
    wait_removed(mta, queue_id)
    # On demand, and nothing else waits for the destination: not cached.
    assert wait_until(lambda: handler.quit_count == 1, 10), mta.log()
    assert handler.ehlo_count == 1
    assert handler.rset_count == 0


def test_reuse_for_listed_destination_only(mta, sink):
    handler, port = sink(CountingRecorder())
    mta.write_master(MASTER_CF_ONE_SMTP)
    start(mta, relayhost=f"[127.0.0.1]:{port}",
          smtp_connection_cache_on_demand="no",
          smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
          smtp_connection_cache_time_limit="30s")
    send_many(mta, 3)
    assert len(handler.envelopes) == 3, mta.log()
    assert handler.ehlo_count == 1, mta.log()
    assert handler.rset_count == 2
