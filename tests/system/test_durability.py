"""The durability promise of the receive path, under random SIGKILLs.

An instance runs smtpd and cleanup only (no qmgr, so accepted mail stays in
incoming/). Ten client threads submit 500 messages over SMTP, each with a
unique marker in its Message-ID, Subject and body, while a killer thread
sends SIGKILL to a random cleanup or smtpd process of the instance at
seeded random short intervals. Clients retry a message on any failure
(4xx, dropped connection, timeout) until it gets "250 ... queued as ID".

What must hold (queue_file.h, cleanup_clnt.h):
  - every message that got a 250 has a COMPLETE queue file ID: completion
    mark (mode 0700), a valid walk by build's postcat (size record, segment
    order, end record last), and its own marker in the content;
  - no file with the mark is invalid or belongs to nobody; files killed
    mid-write stay 0600 (never marked), as do temporary "tmp.*" names.

Why this catches a reply sent too early: a client stats incoming/ID the
moment its 250 arrives, before anything else happens. If smtpd answered
before cleanup had committed (end record, mark, fsync, then the status
reply), that stat would often find the file still at 0600, and with
kills landing every few tens of milliseconds some cleanup would die in the
window between an early 250 and its commit, leaving a 250'd message with
no complete file, which the final walk reports. The fsync itself is not
visible to a SIGKILL (the page cache survives it), so
test_commit_fsyncs_before_status_reply watches the system calls with
strace: in every cleanup process the status reply's write must follow an
fchmod to 0700 and an fsync of the queue file.
"""
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

import pytest


from conftest import run
from instance import (can_connect, free_port, queue_file_paths,
                      wait_until)

ENV = {"TZ": "UTC"}
SEED = 20260401
MESSAGES = 500
CLIENTS = 10
# Hard bounds: the run gives up (and fails) rather than hang.
RUN_DEADLINE_S = 90
ATTEMPTS_PER_MESSAGE = 40
KILL_UNTIL = MESSAGES - 3 * CLIENTS
QUEUED = re.compile(r"250 2\.0\.0 Ok: queued as (\w+)")


class SmtpError(Exception):
    """A reply other than the one expected (the client retries)."""


class Client:
    """A minimal SMTP client that raises on anything unexpected."""

    def __init__(self, port, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.expect("220")

    def reply(self):
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise SmtpError("connection closed: " + "|".join(lines))
            lines.append(line.decode("latin-1").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def expect(self, code):
        text = self.reply()
        if not text.startswith(code):
            raise SmtpError(text)
        return text

    def cmd(self, line, code):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.expect(code)

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        self.file.close()
        self.sock.close()


def message_text(marker, rng):
    """A message whose marker is in headers and body; 0.2..24 KB."""
    filler = "".join(f"{marker} line {n} " + "x" * 60 + "\r\n"
                     for n in range(rng.randint(2, 300)))
    return (f"Message-ID: <{marker}@client.example>\r\n"
            f"Subject: {marker}\r\n\r\nbody {marker}\r\n{filler}")


def submit_once(port, marker, text, pause=0.0):
    """One attempt; returns the queue ID or raises. The content goes in two
    halves, pause seconds apart, so that cleanup holds an open, incomplete
    file for a while (where the kills should land)."""
    client = Client(port)
    try:
        client.cmd("EHLO client.example", "250")
        client.cmd("MAIL FROM:<a@b.test>", "250")
        client.cmd(f"RCPT TO:<{marker}@mail.example.test>", "250")
        client.cmd("DATA", "354")
        data = text.encode() + b".\r\n"
        client.sock.sendall(data[:len(data) // 2])
        time.sleep(pause)
        client.sock.sendall(data[len(data) // 2:])
        final = client.reply()
        match = QUEUED.fullmatch(final)
        if not match:
            raise SmtpError(final)
        return match.group(1)
    finally:
        client.close()


class Run:
    """Shared state of one durability run (each thread writes its own
    entries; lists are appended under the lock)."""

    def __init__(self, inst, port):
        self.inst = inst
        self.port = port
        self.lock = threading.Lock()
        self.accepted = {}   # marker -> [queue IDs with a 250]
        self.problems = []   # invariant violations seen by clients
        self.failures = 0    # attempts that did not end in 250
        self.done = threading.Event()
        self.deadline = time.monotonic() + RUN_DEADLINE_S

    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    def check_at_reply(self, marker, queue_id):
        """The file must be complete the moment the 250 arrives."""
        path = self.inst.queue / "incoming" / queue_id
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            self.problem(f"{marker}: 250 for {queue_id}, but {exc}")
            return
        if not mode & stat.S_IXUSR:
            self.problem(f"{marker}: 250 for {queue_id} while the file is "
                         f"mode {stat.S_IMODE(mode):04o}")


def client_thread(state, index):
    rng = random.Random(SEED + index)
    for number in range(index, MESSAGES, CLIENTS):
        marker = f"m{number:04d}x{rng.randrange(16**8):08x}"
        text = message_text(marker, rng)
        last_error = None
        for _ in range(ATTEMPTS_PER_MESSAGE):
            if time.monotonic() > state.deadline:
                state.problem(f"{marker}: run deadline passed")
                return
            try:
                queue_id = submit_once(state.port, marker, text,
                                       rng.uniform(0, 0.02))
            except (OSError, SmtpError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                with state.lock:
                    state.failures += 1
                time.sleep(0.02)
                continue
            state.check_at_reply(marker, queue_id)
            with state.lock:
                state.accepted.setdefault(marker, []).append(queue_id)
            break
        else:
            state.problem(f"{marker}: never accepted ({last_error})")


def killer_thread(state, kills):
    """Kill until the last few messages: with only one or two clients left,
    every kill would hit the same transaction and starve it."""
    rng = random.Random(SEED)
    while not state.done.wait(rng.uniform(0.005, 0.05)):
        with state.lock:
            if len(state.accepted) >= KILL_UNTIL:
                return
        victims = sorted(state.inst.processes("cleanup") +
                         state.inst.processes("smtpd"))
        if not victims:
            continue
        pid = rng.choice(victims)
        try:
            os.kill(pid, signal.SIGKILL)
            kills.append(pid)
        except ProcessLookupError:
            pass


def incoming_files(inst):
    return queue_file_paths(inst.queue / "incoming")


def postcat_content(inst, queue_id):
    proc = run("postcat", "-c", inst.etc, "-q", queue_id, env=ENV)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def killable(instance):
    port = free_port()
    instance.write_main(service_throttle_time="1s",
                        smtpd_error_sleep_time="0",
                        local_recipient_maps="",
                        message_size_limit="10240000")
    instance.write_master(
        "cleanup unix n - n - 0 cleanup\n"
        f"127.0.0.1:{port} inet n - n - - smtpd\n")
    instance.start()
    wait_until(lambda: can_connect(port))
    instance.port = port
    return instance


def test_no_accepted_message_is_lost_under_sigkill(killable):
    inst = killable
    state = Run(inst, inst.port)
    kills = []
    killer = threading.Thread(target=killer_thread, args=(state, kills))
    clients = [threading.Thread(target=client_thread, args=(state, i))
               for i in range(CLIENTS)]
    killer.start()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(RUN_DEADLINE_S + 30)
    state.done.set()
    killer.join(10)
    assert not any(t.is_alive() for t in clients), "clients hang"
    assert state.problems == []
    assert len(state.accepted) == MESSAGES
    # The run must really have hurt: processes died, transactions failed.
    assert len(kills) >= 20, kills
    assert state.failures >= 5, state.failures
    inst.wait_for_log(r"killed by signal 9")

    # Every 250 has its complete, valid file holding its marker.
    owner = {}
    for marker, ids in state.accepted.items():
        for queue_id in ids:
            owner[queue_id] = marker
            path = inst.queue / "incoming" / queue_id
            assert os.stat(path).st_mode & 0o777 == 0o700, queue_id
            code, text = postcat_content(inst, queue_id)
            assert code == 0, text
            assert f"Subject: {marker}\n" in text, queue_id
            assert f"\nbody {marker}\n" in text, queue_id
            assert f"recipient: {marker}@mail.example.test\n" in text

    # No marked file is corrupt or foreign; unmarked ones stay unmarked.
    incomplete = 0
    for path in incoming_files(inst):
        name = os.path.basename(path)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if not mode & stat.S_IXUSR:
            assert mode == 0o600, (path, oct(mode))
            incomplete += 1
            continue
        assert not name.startswith("tmp."), path
        assert mode == 0o700, (path, oct(mode))
        if name in owner:
            continue
        # Committed but its 250 was lost with a killed smtpd: a duplicate
        # of a message the client then sent again, never a broken file.
        code, text = postcat_content(inst, name)
        assert code == 0, text
        match = re.search(r"^Subject: (m\d{4}x[0-9a-f]{8})$", text, re.M)
        assert match and match.group(1) in state.accepted, text
    print(f"kills={len(kills)} failed attempts={state.failures} "
          f"incomplete files={incomplete}")


STRACE = shutil.which("strace")


def strace_works():
    if STRACE is None:
        return False
    try:
        scope = int(open("/proc/sys/kernel/yama/ptrace_scope").read())
    except (OSError, ValueError):
        scope = 0
    if os.geteuid() != 0 and scope != 0:
        return False  # may not attach to a process we did not start
    proc = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=none", "true"],
                          capture_output=True, timeout=30)
    return proc.returncode == 0


@pytest.mark.skipif(not strace_works(), reason="strace missing or ptrace "
                    "not permitted here")
def test_commit_fsyncs_before_status_reply(instance):
    """strace every cleanup process: its status reply (the attribute
    message carrying "code") is written only after fchmod(..., 0700) and
    fsync of the queue file it created."""
    port = free_port()
    instance.write_main(local_recipient_maps="")
    instance.write_master(
        "cleanup unix n - n - 1 cleanup\n"
        f"127.0.0.1:{port} inet n - n - - smtpd\n")
    instance.start()
    wait_until(lambda: can_connect(port))
    rng = random.Random(SEED)
    submit_once(port, "warmup", message_text("warmup", rng))
    pids = wait_until(lambda: instance.processes("cleanup"))
    assert len(pids) == 1
    trace = instance.root / "strace.out"
    tracer = subprocess.Popen(
        [STRACE, "-f", "-qq", "-s", "64", "-o", str(trace), "-p",
         str(pids[0]), "-e",
         "trace=openat,rename,renameat2,link,fchmod,fsync,fdatasync,"
         "write,writev,sendto,sendmsg,close"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # strace writes the output file once it is attached.
        time.sleep(1.0)
        ids = [submit_once(port, f"traced{n}",
                           message_text(f"traced{n}", rng))
               for n in range(3)]
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    lines = trace.read_text().splitlines()
    reply = re.compile(r"\b(write|writev|sendmsg|sendto)\(\d+, .*i\\4code")
    replies = [i for i, line in enumerate(lines) if reply.search(line)]
    assert len(replies) == len(ids), "\n".join(lines)
    previous = 0
    for index in replies:
        window = lines[previous:index]
        chmods = [i for i, line in enumerate(window)
                  if re.search(r"fchmod\((\d+), 0700\)\s+= 0", line)]
        syncs = [i for i, line in enumerate(window)
                 if re.search(r"f(data)?sync\((\d+)\)\s+= 0", line)]
        assert chmods and syncs, "\n".join(window)
        assert chmods[-1] < syncs[-1], "\n".join(window)
        fd_chmod = re.search(r"fchmod\((\d+)", window[chmods[-1]]).group(1)
        fd_sync = re.search(r"sync\((\d+)", window[syncs[-1]]).group(1)
        assert fd_chmod == fd_sync, "\n".join(window)
        previous = index + 1
