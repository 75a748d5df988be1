"""The connection cache end to end: the scache service, spoken to
directly over private/scache (descriptors passed with SCM_RIGHTS), and
smtp agents sharing connections through it while a full instance relays
bursts to a peer that counts its connections.

Facts checked, as Postfix has them:
- with smtp_connection_cache_on_demand (the default) a connection is
  kept only when qmgr sees more mail for the destination; with
  smtp_connection_cache_destinations always; with neither never;
- a cached connection is reused by any smtp process, with RSET first,
  at most 1 + smtp_connection_reuse_count_limit times, logged as
  "conn_use=N";
- scache closes an unused connection after smtp_connection_cache_time_limit,
  capped by connection_cache_ttl_limit, without a QUIT;
- scache logs "statistics: ..." lines in Postfix's words;
- mail flows when scache is missing from master.cf or killed.
"""
import os
import re
import signal
import socket
import threading
import time

import pytest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from instance import wait_until
from postern_proto import Reader, encode_attrs
from test_smtp import (MASTER_CF, CountingRecorder, deliveries, mta,  # noqa
                       send, sink, start, wait_removed)

# Every smtp process serves one request and exits: connections can only
# be reused across processes, through scache.
MASTER_CF_ONE_USE = MASTER_CF.replace(
    "smtp unix - - n - - smtp", "smtp unix - - n - - smtp -o max_use=1")
MASTER_CF_NO_SCACHE = MASTER_CF.replace("scache unix - - n - 1 scache\n", "")


# ---------------------------------------------------------------------
# A peer that counts connections: opened, closed, open at once.

class ConnCounter(CountingRecorder):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.connections = 0
        self.open_now = 0
        self.max_open = 0
        self.closed_at = []
        self.data_at = []

    async def handle_DATA(self, server, session, envelope):
        self.data_at.append(time.monotonic())
        return await super().handle_DATA(server, session, envelope)


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        handler = self.event_handler
        with handler.lock:
            handler.connections += 1
            handler.open_now += 1
            handler.max_open = max(handler.max_open, handler.open_now)
        super().connection_made(transport)

    def connection_lost(self, exc):
        handler = self.event_handler
        with handler.lock:
            handler.open_now -= 1
            handler.closed_at.append(time.monotonic())
        super().connection_lost(exc)


class CountingController(Controller):
    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def counting_sink(sink):
    """A counting peer; aiosmtpd's own start-up probe is not counted."""
    handler, port = sink(ConnCounter(), controller=CountingController)
    wait_until(lambda: handler.open_now == 0)
    with handler.lock:
        handler.connections = handler.max_open = 0
        handler.closed_at.clear()
    return handler, port


def burst(inst, count, prefix="rcpt"):
    """Submit count messages at once, then wait until all are gone."""
    ids = [send(inst, "alice@example.org", [f"{prefix}{i}@remote.test"])
           for i in range(count)]
    for queue_id in ids:
        wait_removed(inst, queue_id, timeout=60)
    return ids


def received(handler):
    return sorted(rcpt for _, rcpts, _ in handler.envelopes
                  for rcpt in rcpts)


def expected(count, prefix="rcpt"):
    return sorted(f"{prefix}{i}@remote.test" for i in range(count))


def uses_of(inst, ids):
    lines = [m for queue_id in ids for m in deliveries(inst, queue_id)]
    assert [m["status"] for m in lines] == ["sent"] * len(ids), inst.log()
    return [int(m["conn_use"] or 1) for m in lines]


def relay_params(port, **extra):
    return dict(relayhost=f"[127.0.0.1]:{port}", **extra)


# ---------------------------------------------------------------------
# Sharing connections.

def test_burst_shares_connections_across_processes(mta, sink):
    handler, port = counting_sink(sink)
    mta.write_master(MASTER_CF_ONE_USE)
    start(mta, **relay_params(port))
    ids = burst(mta, 50)
    # Every message once, and far fewer connections than messages,
    # though no smtp process ever served two requests.
    assert received(handler) == expected(50), mta.log()
    assert handler.connections <= 25, (handler.connections, mta.log())
    uses = uses_of(mta, ids)
    assert uses.count(1) == handler.connections
    assert max(uses) >= 3
    assert re.search(r"postfix/smtp\[\d+\]: \w+: to=<rcpt\d+@remote\.test>, "
                     rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, "
                     r"conn_use=\d+, delay=", mta.log())
    assert handler.rset_count == 50 - handler.connections
    assert "warning" not in mta.log()


def test_burst_with_default_processes(mta, sink):
    handler, port = counting_sink(sink)
    start(mta, **relay_params(port))
    ids = burst(mta, 50)
    assert received(handler) == expected(50), mta.log()
    # Concurrent deliveries need connections of their own, and a
    # delivery with nothing queued behind it does not keep its one.
    assert handler.connections <= 30, (handler.connections, mta.log())
    assert uses_of(mta, ids).count(1) == handler.connections


def test_on_demand_off_means_one_connection_each(mta, sink):
    handler, port = counting_sink(sink)
    mta.write_master(MASTER_CF_ONE_USE)
    start(mta, **relay_params(port, smtp_connection_cache_on_demand="no"))
    ids = burst(mta, 10)
    assert received(handler) == expected(10), mta.log()
    assert handler.connections == 10
    assert handler.rset_count == 0
    assert handler.quit_count == 10
    assert uses_of(mta, ids) == [1] * 10
    assert "conn_use=" not in mta.log()


def test_reuse_count_limit_across_processes(mta, sink):
    handler, port = counting_sink(sink)
    mta.write_master(MASTER_CF_ONE_USE)
    start(mta, **relay_params(
        port, smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
        smtp_connection_reuse_count_limit="2"))
    ids = []
    for i in range(7):  # one at a time: no two deliveries at once
        queue_id = send(mta, "alice@example.org", [f"one{i}@remote.test"])
        wait_removed(mta, queue_id)
        ids.append(queue_id)
    # A limit of 2: a connection carries 1 + 2 messages, then QUIT.
    assert uses_of(mta, ids) == [1, 2, 3, 1, 2, 3, 1], mta.log()
    assert handler.connections == 3
    assert wait_until(lambda: handler.quit_count == 2, 10)


def test_cached_connection_closed_after_ttl(mta, sink):
    handler, port = counting_sink(sink)
    start(mta, **relay_params(
        port, smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
        smtp_connection_cache_time_limit="1s"))
    first = send(mta, "alice@example.org", ["one@remote.test"])
    wait_removed(mta, first)
    assert wait_until(lambda: handler.closed_at, 10)
    # Closed by scache after about a second, with no QUIT.
    held = handler.closed_at[0] - handler.data_at[0]
    assert 0.5 <= held <= 2.5, held
    assert handler.quit_count == 0
    second = send(mta, "alice@example.org", ["two@remote.test"])
    wait_removed(mta, second)
    assert handler.connections == 2
    assert deliveries(mta, second)[0]["conn_use"] is None


def test_ttl_capped_by_connection_cache_ttl_limit(mta, sink):
    handler, port = counting_sink(sink)
    start(mta, **relay_params(
        port, smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
        smtp_connection_cache_time_limit="30s",
        connection_cache_ttl_limit="1s"))
    first = send(mta, "alice@example.org", ["one@remote.test"])
    wait_removed(mta, first)
    assert wait_until(lambda: handler.closed_at, 10)
    held = handler.closed_at[0] - handler.data_at[0]
    assert 0.5 <= held <= 2.5, held


def test_reused_within_ttl_by_another_process(mta, sink):
    handler, port = counting_sink(sink)
    mta.write_master(MASTER_CF_ONE_USE)
    start(mta, **relay_params(
        port, smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
        smtp_connection_cache_time_limit="5s",
        connection_cache_ttl_limit="5s"))
    first = send(mta, "alice@example.org", ["one@remote.test"])
    wait_removed(mta, first)
    time.sleep(1)
    second = send(mta, "alice@example.org", ["two@remote.test"])
    wait_removed(mta, second)
    assert handler.connections == 1
    assert handler.rset_count == 1
    line = deliveries(mta, second)[0]
    assert line["conn_use"] == "2"
    pids = re.findall(rf"postfix/smtp\[(\d+)\]: (?:{first}|{second}): to=",
                      mta.log())
    assert len(set(pids)) == 2, mta.log()


def test_statistics_logged(mta, sink):
    handler, port = counting_sink(sink)
    start(mta, **relay_params(port, connection_cache_status_update_time="2s"))
    burst(mta, 20)
    mta.wait_for_log(r"postfix/scache\[\d+\]: statistics: max simultaneous",
                     timeout=15)
    log = mta.log()
    assert re.search(r"postfix/scache\[\d+\]: statistics: start interval "
                     r"[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d\n", log), log
    assert re.search(r"statistics: domain lookup hits=\d+ miss=\d+ "
                     r"success=\d+%\n", log), log
    assert re.search(r"statistics: address lookup hits=\d+ miss=\d+ "
                     r"success=\d+%\n", log), log
    m = re.search(r"statistics: max simultaneous domains=(\d+) "
                  r"addresses=(\d+) connection=(\d+)\n", log)
    assert m and int(m[1]) == 1 and int(m[2]) == 1 and int(m[3]) >= 1, log


# ---------------------------------------------------------------------
# Without scache.

def test_mail_flows_without_scache_in_master_cf(mta, sink):
    handler, port = counting_sink(sink)
    mta.write_master(MASTER_CF_NO_SCACHE.replace(
        "smtp unix - - n - - smtp", "smtp unix - - n - 2 smtp"))
    start(mta, **relay_params(port))
    ids = burst(mta, 10)
    assert received(handler) == expected(10), mta.log()
    assert handler.connections == 10
    assert uses_of(mta, ids) == [1] * 10
    warnings = re.findall(r"postfix/smtp\[\d+\]: warning: connection cache "
                          r"private/scache: connect to private/scache: No "
                          r"such file or directory; not caching connections "
                          r"for now", mta.log())
    # Once per smtp process, not once per delivery.
    assert 1 <= len(warnings) <= 2, mta.log()


def test_mail_flows_when_scache_is_killed(mta, sink):
    handler, port = counting_sink(sink)
    start(mta, **relay_params(port))
    burst(mta, 10, prefix="a")
    pids = mta.processes("scache")
    assert pids, mta.log()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    burst(mta, 10, prefix="b")
    assert received(handler) == sorted(expected(10, "a") +
                                       expected(10, "b")), mta.log()


# ---------------------------------------------------------------------
# The scache protocol, spoken directly.

SCACHE_ONLY = "scache unix - - n - 1 scache\n"


class ScacheClient:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(str(path))
        self.reader = Reader(self.sock)
        self.greeting = self.reader.attrs()

    def request(self, attrs, fd=None):
        data = encode_attrs(attrs)
        if fd is None:
            self.sock.sendall(data)
        else:
            socket.send_fds(self.sock, [data], [fd])
        return self.reply()

    def reply(self):
        """The reply and the descriptor that came with it (or None)."""
        data, fds, _, _ = socket.recv_fds(self.sock, 65536, 4)
        if not data:
            raise EOFError("connection closed")
        self.reader.buf = data
        attrs = self.reader.attrs()
        assert self.reader.buf == b"", self.reader.buf
        assert len(fds) <= 1
        return attrs, (fds[0] if fds else None)

    def close(self):
        self.sock.close()


def closed_by_peer(sock):
    """True when the peer closed (or reset) the connection."""
    try:
        return sock.recv(16) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def scache(instance):
    instance.write_master(SCACHE_ONLY)
    instance.write_main(connection_cache_ttl_limit="3s",
                        connection_cache_protocol_timeout="1s")
    instance.start()
    path = instance.queue / "private" / "scache"
    wait_until(path.exists)
    return instance, path


def test_protocol_save_and_find(scache):
    inst, path = scache
    client = ScacheClient(path)
    assert client.greeting == {"protocol": "scache", "version": 1}
    mine, theirs = socket.socketpair()
    with mine:
        reply, fd = client.request({"request": "save_endp", "ttl": 2,
                                    "label": "smtp:h:[192.0.2.1]:25",
                                    "prop": "p1"}, theirs.fileno())
        theirs.close()
        assert reply == {"status": 0} and fd is None
        reply, fd = client.request({"request": "save_dest", "ttl": 2,
                                    "label": "smtp:h:example.com",
                                    "prop": "d1",
                                    "endp_label": "smtp:h:[192.0.2.1]:25"})
        assert reply == {"status": 0}
        reply, fd = client.request({"request": "find_dest",
                                    "label": "smtp:h:example.com"})
        assert reply == {"status": 0, "prop": "d1", "endp_prop": "p1"}
        assert fd is not None
        # The very socket that was saved: what we write, mine reads.
        with socket.socket(fileno=fd) as got:
            got.sendall(b"hello")
            assert mine.recv(16) == b"hello"
        # Handed out once.
        reply, fd = client.request({"request": "find_endp",
                                    "label": "smtp:h:[192.0.2.1]:25"})
        assert reply == {"status": 1} and fd is None
        reply, fd = client.request({"request": "find_dest",
                                    "label": "smtp:h:example.com"})
        assert reply == {"status": 1} and fd is None
    client.close()


def test_protocol_connection_expires(scache):
    inst, path = scache
    client = ScacheClient(path)
    mine, theirs = socket.socketpair()
    with mine:
        start_at = time.monotonic()
        reply, _ = client.request({"request": "save_endp", "ttl": 1,
                                   "label": "e", "prop": ""},
                                  theirs.fileno())
        theirs.close()
        assert reply == {"status": 0}
        mine.settimeout(10)
        assert mine.recv(16) == b""  # scache closed its copy
        assert 0.5 <= time.monotonic() - start_at <= 3
        reply, fd = client.request({"request": "find_endp", "label": "e"})
        assert reply == {"status": 1}
    client.close()


@pytest.mark.parametrize("attrs, with_fd, reason", [
    ({"request": "flush", "label": "e"}, False,
     'unknown request "flush"'),
    ({"request": "save_endp", "ttl": 1, "label": "e", "prop": ""}, False,
     "save_endp request without a descriptor"),
    ({"request": "find_endp", "label": "e"}, True,
     "descriptor with a request other than save_endp"),
    ({"request": "find_endp", "label": ""}, False, "empty label"),
    ({"request": "save_dest", "ttl": 0, "label": "d", "prop": "",
      "endp_label": "e"}, False, "ttl 0 out of range"),
])
def test_protocol_bad_requests(scache, attrs, with_fd, reason):
    inst, path = scache
    client = ScacheClient(path)
    mine, theirs = socket.socketpair()
    with mine, theirs:
        data = encode_attrs(attrs)
        if with_fd:
            socket.send_fds(client.sock, [data], [theirs.fileno()])
        else:
            client.sock.sendall(data)
        assert closed_by_peer(client.sock)
    client.close()
    inst.wait_for_log(rf"postfix/scache\[\d+\]: warning: scache: bad request: "
                      rf"{re.escape(reason)}; closing connection")
    # The daemon goes on serving others.
    other = ScacheClient(path)
    reply, _ = other.request({"request": "find_endp", "label": "e"})
    assert reply == {"status": 1}
    other.close()


def test_protocol_oversized_and_stalled_requests(scache):
    inst, path = scache
    client = ScacheClient(path)
    # Five values of 2000 bytes and no end: past the request size limit.
    big = encode_attrs({f"v{i}": "x" * 2000 for i in range(5)})[:-1]
    client.sock.sendall(big)
    assert closed_by_peer(client.sock)
    client.close()
    inst.wait_for_log(r"warning: scache: bad request: (?:message|request) "
                      r"longer than 8192 bytes; closing connection")
    stalled = ScacheClient(path)
    stalled.sock.sendall(b"s")  # a request that never ends
    stalled.sock.settimeout(10)
    assert closed_by_peer(stalled.sock)
    stalled.close()
    inst.wait_for_log(r"warning: scache: timeout after 1000 ms on a client "
                      r"connection; closing it")
