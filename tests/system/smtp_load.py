"""SMTP load tools for the system tests: a source and a sink, in asyncio.

The source works like Postfix's smtp-source: N concurrent sessions over
loopback share M numbered messages, several per connection, pipelining the
envelope when the server offers PIPELINING, and record which messages got a
250 after the dot. The sink works like smtp-sink: a server in a thread of its
own (with its own event loop) that announces PIPELINING and 8BITMIME, answers
250 to every command in a well-ordered session, and records every message by
its sequence number. Each message carries its number in the Message-ID, an
X-Seq header and the body, and its body is computed from that number, so the
sink tells whole messages from damaged ones. Every wait has a timeout; every
problem is recorded as text for the test to report.
"""
import asyncio
import collections
import dataclasses
import re
import threading
import time

LINE_LIMIT = 4096          # longest command line either side accepts
MESSAGE_LIMIT = 10 << 20   # largest message the sink accepts

# --- messages ---------------------------------------------------------------


def make_body(seq, lines=25):
    """The body of message seq: lines that need dot-stuffing (a lone "."
    and ".." among them), then a last line naming seq; CRLF line ends."""
    out = []
    for i in range(lines):
        if i % 10 == 3:
            out.append(f".dot line {seq} {i}")
        elif i == 5:
            out.append(".")
        elif i == 6:
            out.append("..")
        else:
            out.append(f"{seq:08d} {i:04d} " + "x" * 60)
    out.append(f"end of {seq}")
    return ("\r\n".join(out) + "\r\n").encode()


def make_message(seq, sender, rcpts, lines=25):
    """Message seq as it goes on the wire before dot-stuffing."""
    head = (f"From: <{sender}>\r\n"
            f"To: {', '.join(f'<{r}>' for r in rcpts)}\r\n"
            f"Subject: load message {seq}\r\n"
            f"Message-ID: <{seq}.load@source.test>\r\n"
            f"X-Seq: {seq}\r\n"
            f"X-Body-Lines: {lines}\r\n\r\n")
    return head.encode() + make_body(seq, lines)


HEADER_SEQ = re.compile(rb"^X-Seq: (\d+)\r$", re.M)
HEADER_LINES = re.compile(rb"^X-Body-Lines: (\d+)\r$", re.M)


def parse_message(content):
    """(seq, problem) for a received, unstuffed message: seq is None when
    the message has no X-Seq header; problem is None when the body is
    exactly the one make_body made for seq."""
    head, sep, body = content.partition(b"\r\n\r\n")
    seq_match = HEADER_SEQ.search(head + b"\r\n")
    lines_match = HEADER_LINES.search(head + b"\r\n")
    if not sep or not seq_match or not lines_match:
        return None, f"no X-Seq/X-Body-Lines header: {content[:200]!r}"
    seq = int(seq_match[1])
    if body != make_body(seq, int(lines_match[1])):
        return seq, f"message {seq}: damaged body: {body[-200:]!r}"
    return seq, None


def dot_stuff(content):
    """content (CRLF lines) with a dot added to lines starting with one."""
    return (b"\r\n" + content).replace(b"\r\n.", b"\r\n..")[2:]


def dot_unstuff(content):
    """The reverse of dot_stuff: one leading dot off every line."""
    return (b"\r\n" + content).replace(b"\r\n.", b"\r\n")[2:]


# --- the sink ---------------------------------------------------------------


class SinkSession:
    """One connection to the sink: reads commands, queues replies and
    sends them in one write whenever it has to wait for more input (so a
    pipelined batch gets its replies together)."""

    def __init__(self, sink, reader, writer):
        self.sink = sink
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.out = []
        self.mail_from = None
        self.rcpts = []

    def reply(self, text):
        self.out.append(text.encode() + b"\r\n")

    async def flush(self):
        if self.out:
            self.writer.write(b"".join(self.out))
            self.out.clear()
            await asyncio.wait_for(self.writer.drain(), self.sink.timeout)

    async def fill(self):
        """Read more input into buf; False at end of input."""
        await self.flush()
        chunk = await asyncio.wait_for(self.reader.read(65536),
                                       self.sink.timeout)
        self.buf += chunk
        return bool(chunk)

    async def read_line(self):
        """The next command line without its line end; None at EOF."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end]).rstrip(b"\r")
                del self.buf[:end + 1]
                return line
            if len(self.buf) > LINE_LIMIT:
                raise ValueError(f"command line longer than {LINE_LIMIT}")
            if not await self.fill():
                return None

    async def read_data(self):
        """The message after DATA, unstuffed; None at EOF."""
        data = bytearray(b"\r\n") + self.buf
        self.buf.clear()
        scan = 0
        while (end := data.find(b"\r\n.\r\n", scan)) < 0:
            if len(data) > MESSAGE_LIMIT:
                raise ValueError(f"message larger than {MESSAGE_LIMIT}")
            scan = max(0, len(data) - 4)
            if not await self.fill():
                return None
            data += self.buf
            self.buf.clear()
        self.buf = data[end + 5:]
        return dot_unstuff(bytes(data[2:end + 2]))

    async def run(self):
        self.reply("220 sink.test ESMTP load sink")
        while True:
            line = await self.read_line()
            if line is None:
                if self.mail_from is not None:
                    self.sink.note_error("connection lost in a transaction")
                return
            verb = line.split(b" ", 1)[0].upper()
            if verb == b"QUIT":
                self.reply("221 2.0.0 Bye")
                await self.flush()
                return
            if not await self.command(verb, line):
                return

    async def command(self, verb, line):
        """Answer one command; False when the session must end."""
        if verb == b"EHLO":
            self.reset()
            self.reply("250-sink.test\r\n250-PIPELINING\r\n250 8BITMIME")
        elif verb == b"HELO":
            self.reset()
            self.reply("250 sink.test")
        elif verb == b"MAIL":
            self.mail(line)
        elif verb == b"RCPT":
            self.rcpt(line)
        elif verb == b"DATA":
            return await self.data()
        elif verb == b"RSET":
            self.reset()
            self.sink.count("rsets")
            self.reply("250 2.0.0 Ok")
        else:
            self.reply("250 2.0.0 Ok")
        return True

    def reset(self):
        self.mail_from = None
        self.rcpts = []

    def mail(self, line):
        if self.mail_from is not None:
            self.sink.note_error("nested MAIL command")
            self.reply("503 5.5.1 Error: nested MAIL command")
            return
        match = re.match(rb"MAIL FROM:<([^>]*)>", line, re.I)
        self.mail_from = match[1].decode() if match else ""
        self.reply("250 2.1.0 Ok")

    def rcpt(self, line):
        if self.mail_from is None:
            self.sink.note_error("RCPT without MAIL")
            self.reply("503 5.5.1 Error: need MAIL command")
            return
        match = re.match(rb"RCPT TO:<([^>]*)>", line, re.I)
        self.rcpts.append(match[1].decode() if match else "")
        self.reply("250 2.1.5 Ok")

    async def data(self):
        if not self.rcpts:
            self.sink.note_error("DATA without RCPT")
            self.reply("503 5.5.1 Error: need RCPT command")
            return True
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        content = await self.read_data()
        if content is None:
            self.sink.note_error("connection lost in DATA")
            return False
        number = self.sink.record(self.mail_from, self.rcpts, content)
        self.reset()
        self.reply(f"250 2.0.0 Ok: queued as S{number}")
        return True


class Sink:
    """The sink server, run in a thread of its own by start()/stop() or
    as a context manager. After start(), port is the listening port.
    Counters: connections, messages, rsets; seqs counts each sequence
    number received; rcpts[seq] is the recipient list seen for it;
    errors lists protocol problems and damaged messages (first 100)."""

    def __init__(self, host="127.0.0.1", port=0, timeout=60, keep=False):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.keep = keep
        self.kept = []
        self.lock = threading.Lock()
        self.counters = collections.Counter()
        self.seqs = collections.Counter()
        self.rcpts = {}
        self.errors = []
        self._loop = None
        self._server = None
        self._tasks = set()
        self._thread = None
        self._ready = threading.Event()
        self._start_error = None

    # Thread and loop.
    def start(self):
        self._thread = threading.Thread(target=self._main, daemon=True,
                                        name="smtp-sink")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("sink: not listening after 10 s")
        if self._start_error is not None:
            raise RuntimeError(f"sink: cannot listen on {self.host}:"
                               f"{self.port}: {self._start_error}")
        return self

    def _main(self):
        loop = self._loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(asyncio.start_server(
                self._session, self.host, self.port, backlog=256))
            self.port = self._server.sockets[0].getsockname()[1]
        except OSError as exc:
            self._start_error = exc
        self._ready.set()
        if self._start_error is None:
            loop.run_forever()
        loop.close()

    def stop(self):
        if self._loop is None or self._start_error is not None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(),
                                                  self._loop)
        future.result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)

    async def _shutdown(self):
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    async def _session(self, reader, writer):
        self._tasks.add(asyncio.current_task())
        self.count("connections")
        try:
            await SinkSession(self, reader, writer).run()
        except asyncio.TimeoutError:
            self.note_error(f"client idle for more than {self.timeout} s")
        except (OSError, ValueError) as exc:
            self.note_error(f"session ended: {exc!r}")
        finally:
            self._tasks.discard(asyncio.current_task())
            writer.close()

    # Records (called in the sink's thread, read from others).
    def count(self, name):
        with self.lock:
            self.counters[name] += 1

    def note_error(self, text):
        with self.lock:
            self.counters["errors"] += 1
            if len(self.errors) < 100:
                self.errors.append(text)

    def record(self, mail_from, rcpts, content):
        """Record one message; returns its number at the sink."""
        seq, problem = parse_message(content)
        if problem:
            self.note_error(problem)
        with self.lock:
            self.counters["messages"] += 1
            if seq is not None:
                self.seqs[seq] += 1
                self.rcpts.setdefault(seq, []).extend(rcpts)
            if self.keep:
                self.kept.append((mail_from, list(rcpts), content))
            return self.counters["messages"]

    def received(self):
        """How many messages arrived so far."""
        with self.lock:
            return self.counters["messages"]


# --- the source -------------------------------------------------------------


class ProtocolError(Exception):
    """The server said something the source cannot go on after."""


@dataclasses.dataclass
class LoadResult:
    """What the source saw. acked: sequence numbers that got 250 after the
    dot; refused: seq -> the reply or error that a message (or one of its
    recipients) got instead; errors: connection-level problems (first
    100); connections: how many were opened; elapsed: seconds."""
    acked: set = dataclasses.field(default_factory=set)
    refused: dict = dataclasses.field(default_factory=dict)
    errors: list = dataclasses.field(default_factory=list)
    connections: int = 0
    pipelined: int = 0  # connections where the server offered PIPELINING
    elapsed: float = 0.0

    def error(self, text):
        if len(self.errors) < 100:
            self.errors.append(text)


@dataclasses.dataclass
class SourceConfig:
    """How the source talks: where to, as whom, and message shape (lines
    of body, recipients per message, messages per connection)."""
    port: int
    host: str = "127.0.0.1"
    sender: str = "sender@source.test"
    domain: str = "remote.test"
    recipients: int = 1
    lines: int = 25
    per_connection: int = 10
    helo: str = "source.test"
    timeout: float = 30.0

    def rcpts(self, seq):
        """Every message's recipients are its own: rcptSEQ[.N]@domain."""
        if self.recipients == 1:
            return [f"rcpt{seq}@{self.domain}"]
        return [f"rcpt{seq}.{n}@{self.domain}"
                for n in range(self.recipients)]


class SourceClient:
    """One client connection: replies read whole, each within timeout."""

    def __init__(self, reader, writer, timeout):
        self.reader = reader
        self.writer = writer
        self.timeout = timeout

    async def send(self, data):
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), self.timeout)

    async def reply(self):
        """(code, text) of the next reply, lines joined with newlines."""
        lines = []
        while True:
            line = await asyncio.wait_for(self.reader.readline(),
                                          self.timeout)
            if not line.endswith(b"\n"):
                raise ProtocolError("connection closed by the server"
                                    + (f" after {lines}" if lines else ""))
            text = line.decode("latin-1").rstrip("\r\n")
            if len(text) < 3 or not text[:3].isdigit():
                raise ProtocolError(f"malformed reply {text!r}")
            lines.append(text)
            if text[3:4] != "-":
                return int(text[:3]), "\n".join(lines)

    async def command(self, line):
        await self.send(line.encode() + b"\r\n")
        return await self.reply()


async def send_envelope(client, commands, pipelining):
    """Replies to MAIL, RCPT... and DATA: all in one write when the server
    pipelines, else one by one, stopping when MAIL or every RCPT failed."""
    if pipelining:
        await client.send("".join(c + "\r\n" for c in commands).encode())
        return [await client.reply() for _ in commands]
    replies = []
    for command in commands:
        if command == "DATA" and all(c >= 400 for c, _ in replies[1:]):
            break
        replies.append(await client.command(command))
        if replies[0][0] >= 400:
            break
    return replies


async def source_transaction(client, cfg, seq, pipelining, result):
    """Send message seq; False when the server refused the RSET after a
    failed transaction."""
    rcpts = cfg.rcpts(seq)
    commands = [f"MAIL FROM:<{cfg.sender}>",
                *(f"RCPT TO:<{r}>" for r in rcpts), "DATA"]
    replies = await send_envelope(client, commands, pipelining)
    bad = [f"{c.split(':')[0]}: {text}"
           for c, (code, text) in zip(commands, replies) if code >= 400]
    if bad:
        result.refused[seq] = "; ".join(bad)
    if len(replies) == len(commands) and replies[-1][0] == 354:
        ok = replies[0][0] < 400 and any(c < 400 for c, _ in replies[1:-1])
        content = make_message(seq, cfg.sender, rcpts, cfg.lines)
        await client.send((dot_stuff(content) if ok else b"") + b".\r\n")
        code, text = await client.reply()
        if ok and code == 250:
            result.acked.add(seq)
            return True
        if ok:
            result.refused[seq] = f"after the dot: {text}"
    return (await client.command("RSET"))[0] == 250


async def source_session(cfg, batch, result):
    """One connection carrying the messages in batch (a list of seqs).
    When it fails, every message of the batch without an answer yet is
    refused with the reason."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(cfg.host, cfg.port, limit=LINE_LIMIT),
            cfg.timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise ProtocolError(f"connect: {exc!r}") from None
    result.connections += 1
    client = SourceClient(reader, writer, cfg.timeout)
    try:
        code, text = await client.reply()
        if code != 220:
            raise ProtocolError(f"greeting: {text}")
        code, text = await client.command(f"EHLO {cfg.helo}")
        if code != 250:
            raise ProtocolError(f"EHLO: {text}")
        pipelining = re.search(r"^250[ -]PIPELINING\s*$", text,
                               re.M | re.I) is not None
        result.pipelined += pipelining
        for seq in batch:
            if not await source_transaction(client, cfg, seq, pipelining,
                                            result):
                raise ProtocolError(f"RSET refused after message {seq}")
        await client.command("QUIT")
    except (OSError, ValueError, asyncio.TimeoutError, ProtocolError) as exc:
        reason = f"session error: {exc!r}"
        result.error(reason)
        for seq in batch:
            if seq not in result.acked:
                result.refused.setdefault(seq, reason)
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 5)
        except (OSError, asyncio.TimeoutError):
            pass


async def source_worker(cfg, pending, result):
    """Take batches off pending until it is empty."""
    while pending:
        batch = [pending.popleft()
                 for _ in range(min(cfg.per_connection, len(pending)))]
        try:
            await source_session(cfg, batch, result)
        except ProtocolError as exc:
            result.error(str(exc))
            for seq in batch:
                result.refused.setdefault(seq, str(exc))


async def run_source_async(cfg, count, sessions, deadline):
    result = LoadResult()
    pending = collections.deque(range(count))
    start = time.monotonic()
    workers = [source_worker(cfg, pending, result) for _ in range(sessions)]
    try:
        await asyncio.wait_for(asyncio.gather(*workers), deadline)
    except asyncio.TimeoutError:
        result.error(f"source: not done within {deadline} s")
        for seq in range(count):
            if seq not in result.acked:
                result.refused.setdefault(seq, "not sent before deadline")
    result.elapsed = time.monotonic() - start
    return result


def run_source(port, count, sessions=20, deadline=300, **options):
    """Send count messages (seq 0..count-1) to port over sessions
    concurrent connections, per_connection messages each (options are
    SourceConfig fields); gives up after deadline seconds. Returns a
    LoadResult."""
    cfg = SourceConfig(port=port, **options)
    return asyncio.run(run_source_async(cfg, count, sessions, deadline))
