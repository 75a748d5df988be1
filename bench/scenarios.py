"""scenarios.py - the load, the "where did it arrive" counters, and the
exactly-once checks of the four bench scenarios.

Every message carries a sequence number in its recipient: smtp-source -N
turns "rcpt@example.com" into "1rcpt@example.com", "2rcpt@example.com", ...
(the latency client does the same). Each scenario finds those numbers where
the message ends up (smtp-sink's dump file, the discard agent's log lines,
the Delivered-To header of each Maildir file) and a run counts only if every
number from 1 to N arrived exactly once.

  relay    smtp-source -> MTA -> smtp (relayhost) -> smtp-sink
  discard  smtp-source -> MTA -> discard agent (default_transport)
  maildir  smtp-source -> MTA -> virtual agent -> Maildirs (texthash map)
  latency  one SMTP session, N messages in turn, to discard; times the
           gap between the "." that ends DATA and the 250 reply
"""
import collections
import os
import pathlib
import re
import socket
import subprocess
import time

import measure
import mta

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
MAILBOXES = 20
SENDER = "bench@example.org"
CLIENT_NAME = "client.bench.test"
WARMUP = 5          # latency: messages sent first and left out of the stats

SCENARIOS = ("relay", "discard", "maildir", "latency")

_SINK_RCPT = re.compile(rb"^X-Rcpt-Args: <(\d+)rcpt@example\.com>", re.M)
_DISCARD_SENT = re.compile(
    r"postfix/discard\[\d+\]: \w+: to=<(\d+)rcpt@example\.com>.*"
    r"status=sent")
_DISCARD_SENT_B = re.compile(_DISCARD_SENT.pattern.encode())
_VIRTUAL_SENT = re.compile(rb"postfix/virtual\[\d+\]: \w+: to=<\d+user@"
                           rb"example\.test>.*status=sent")
_DELIVERED_TO = re.compile(rb"^Delivered-To: (\d+)user@example\.test\r?$",
                           re.M)
_PROBLEM = re.compile(r"\b(warning|error|fatal|panic):|status=(deferred|"
                      r"bounced)")


class RunFailed(Exception):
    """A run that cannot report numbers (lost, duplicated or stuck mail, a
    load generator that failed); the message says what was seen."""


def scenario_params(scenario, inst, sink_port, messages):
    """(main.cf settings, extra etc/ files) for a scenario."""
    if scenario == "relay":
        return {"relayhost": f"[127.0.0.1]:{sink_port}"}, {}
    if scenario in ("discard", "latency"):
        return {"default_transport": "discard"}, {}
    return ({"virtual_mailbox_domains": "example.test",
             "virtual_mailbox_base": str(inst.mail),
             "virtual_mailbox_maps": f"texthash:{inst.etc}/vmailbox",
             "virtual_uid_maps": f"static:{inst.uid}",
             "virtual_gid_maps": f"static:{inst.gid}"},
            {"vmailbox": vmailbox_table(messages)})


def vmailbox_table(messages):
    """texthash source: one mailbox per sequence-numbered recipient, spread
    over MAILBOXES Maildirs."""
    return "".join(f"{i}user@example.test example.test/box{i % MAILBOXES}/\n"
                   for i in range(1, messages + 1))


def recipient_for(scenario):
    return "user@example.test" if scenario == "maildir" else \
        "rcpt@example.com"


# Counting where messages arrived.
class FileTail:
    """Reads a growing file incrementally; counts regex matches in whole
    lines only, or occurrences of a literal where one is given (a fixed
    string is counted at C speed: the sink's dump holds whole messages, and
    matching a regex over all of it cost the bench 5% of a CPU)."""

    def __init__(self, path, regex, literal=None):
        self.path = path
        self.regex = regex
        self.literal = literal
        self.offset = 0
        self.count = 0
        self.pending = b""

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return self.count
        self.offset += len(data)
        data = self.pending + data
        cut = data.rfind(b"\n") + 1
        self.pending = data[cut:]
        if self.literal is not None:
            self.count += data.count(self.literal, 0, cut)
        else:
            self.count += len(self.regex.findall(data[:cut]))
        return self.count


def maildir_files(mail_root):
    """Paths of the delivered files in every Maildir's new/."""
    base = pathlib.Path(mail_root) / "example.test"
    found = []
    try:
        boxes = list(os.scandir(base))
    except FileNotFoundError:
        return found
    for box in boxes:
        try:
            found.extend(e.path for e in os.scandir(os.path.join(box.path,
                                                                 "new")))
        except FileNotFoundError:
            pass
    return found


class MaildirCounter:
    """Counts Maildir deliveries cheaply: the virtual agent's "status=sent"
    log lines give progress; the files themselves are counted every
    RESCAN polls and whenever the log says all have arrived, and only a
    file count can report "all arrived"."""

    RESCAN = 25

    def __init__(self, inst, expected):
        self.inst = inst
        self.expected = expected
        self.tail = FileTail(inst.maillog, _VIRTUAL_SENT)
        self.files = 0
        self.polls = 0

    def __call__(self):
        logged = self.tail.poll()
        self.polls += 1
        if logged >= self.expected or self.polls % self.RESCAN == 0:
            self.files = len(maildir_files(self.inst.mail))
        if self.files >= self.expected:
            return self.files
        return min(max(logged, self.files), self.expected - 1)


def arrival_counter(scenario, inst, sink, expected):
    """A function returning how many messages have arrived so far."""
    if scenario == "relay":
        return FileTail(sink.dump, _SINK_RCPT,
                        literal=b"X-Rcpt-Args: <").poll
    if scenario in ("discard", "latency"):
        return FileTail(inst.maillog, _DISCARD_SENT_B).poll
    return MaildirCounter(inst, expected)


def arrived_numbers(scenario, inst, sink):
    """Counter of sequence numbers found at the destination."""
    if scenario == "relay":
        data = pathlib.Path(sink.dump).read_bytes()
        return collections.Counter(int(n) for n in _SINK_RCPT.findall(data))
    if scenario in ("discard", "latency"):
        return collections.Counter(int(m.group(1)) for m in
                                   _DISCARD_SENT.finditer(inst.log_text()))
    seen = collections.Counter()
    for path in maildir_files(inst.mail):
        with open(path, "rb") as f:
            head = f.read(4096)
        match = _DELIVERED_TO.search(head.split(b"\n\n", 1)[0])
        seen[int(match.group(1)) if match else -1] += 1
    return seen


def check_exactly_once(seen, messages):
    """Raise RunFailed unless seen holds 1..messages once each."""
    missing = [n for n in range(1, messages + 1) if seen.get(n, 0) == 0]
    duplicated = sorted(n for n, c in seen.items() if c > 1)
    foreign = sorted(n for n in seen if not 1 <= n <= messages)
    if missing or duplicated or foreign:
        raise RunFailed(
            f"exactly-once check failed: {len(missing)} missing "
            f"{missing[:10]}, {len(duplicated)} duplicated {duplicated[:10]},"
            f" {len(foreign)} unexpected {foreign[:10]}")


def log_problems(inst):
    """Log lines with warning/error/fatal/panic or a deferred/bounced
    delivery."""
    return [line for line in inst.log_text().splitlines()
            if _PROBLEM.search(line)]


# The far ends.
class Sink:
    """smtp-sink on a free port, dumping every message into one file."""

    def __init__(self, directory, port):
        self.dir = pathlib.Path(directory)
        self.port = port
        self.dump = self.dir / "dump"
        self.proc = None

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        args = [SMTP_SINK]
        if os.geteuid() == 0:
            os.chown(self.dir, 65534, 65534)
            args += ["-u", "nobody"]
        args += ["-D", str(self.dump), f"127.0.0.1:{self.port}", "256"]
        self.log = open(self.dir / "sink.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            measure.wait_for(lambda: self.proc.poll() is not None or
                             mta.can_connect(self.port), 10)
        except TimeoutError:
            raise RunFailed("smtp-sink did not start listening") from None
        if self.proc.poll() is not None:
            raise RunFailed(f"smtp-sink exited {self.proc.returncode}: "
                            f"{(self.dir / 'sink.log').read_text()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc:
            self.log.close()
        self.proc = None


def start_source(port, scenario, args, log_path):
    """smtp-source with sequence-numbered recipients, one message per
    connection (its default), args.sessions in parallel."""
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [SMTP_SOURCE, "-N", "-s", str(args.sessions), "-m",
         str(args.messages), "-l", str(args.size), "-f", SENDER, "-t",
         recipient_for(scenario), "-M", CLIENT_NAME, f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def stop_process(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=5)


# The latency client.
class LatencyClient:
    """One SMTP session that sends messages one after another and times
    each "." -> 250."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")
        self.expect(b"220")
        self.command(b"EHLO " + CLIENT_NAME.encode(), b"250")

    def reply(self):
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise RunFailed("server closed the session")
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return b"".join(lines)

    def expect(self, code):
        text = self.reply()
        if not text.startswith(code):
            raise RunFailed(f"expected {code.decode()}, got "
                            f"{text.decode(errors='replace').strip()}")
        return text

    def command(self, line, code):
        self.sock.sendall(line + b"\r\n")
        return self.expect(code)

    def send(self, number, body):
        """Send one message; return seconds from "." to the 250."""
        self.command(f"MAIL FROM:<{SENDER}>".encode(), b"250")
        self.command(f"RCPT TO:<{number}rcpt@example.com>".encode(), b"250")
        self.command(b"DATA", b"354")
        self.sock.sendall(body)
        start = time.perf_counter()
        self.sock.sendall(b".\r\n")
        self.expect(b"250")
        return time.perf_counter() - start

    def close(self):
        try:
            self.command(b"QUIT", b"221")
        except (OSError, RunFailed):
            pass
        self.file.close()
        self.sock.close()


def message_body(size):
    """A message of about size bytes, CRLF lines, no leading dots."""
    head = (f"From: <{SENDER}>\r\nTo: <rcpt@example.com>\r\n"
            f"Subject: latency probe\r\n\r\n").encode()
    line = b"X" * 78 + b"\r\n"
    lines = max(1, (size - len(head)) // len(line))
    return head + line * lines


def send_latency(port, count, size):
    """Send WARMUP + count messages over one session; returns the
    latencies (seconds) of the last count ones."""
    client = LatencyClient(port)
    body = message_body(size)
    times = []
    try:
        for number in range(1, WARMUP + count + 1):
            elapsed = client.send(number, body)
            if number > WARMUP:
                times.append(elapsed)
    finally:
        client.close()
    return times


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]
