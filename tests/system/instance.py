"""A throw-away Postern instance for system tests.

Everything lives under one temporary directory: etc/ (main.cf, master.cf),
queue/ (queue_directory), data/, and the log file maillog. The instance runs
as the invoking user (mail_owner is that user) unless a test says otherwise,
and listens on 127.0.0.1 only, on ports probed at run time.
"""
import grp
import os
import pathlib
import pwd
import re
import signal
import socket
import subprocess
import time

from conftest import BUILD, LIBEXEC, SBIN

DEFAULT_TIMEOUT = 10

# qmgr keeps finished queue files as "spare.N" in incoming/ for reuse.
SPARE_PREFIX = "spare."


def queue_file_paths(directory):
    """Paths of the queue files under a queue directory and its hash
    subdirectories: every file but the spares."""
    return [os.path.join(dirpath, name)
            for dirpath, _, names in os.walk(directory)
            for name in names if not name.startswith(SPARE_PREFIX)]


_ports_handed_out = set()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago, and never one
    this test run has handed out before (the kernel may offer the same
    port twice in a row, and a test that asks for several ports at once
    must not get two services on one port)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, interval=0.05):
    """Poll predicate until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        time.sleep(interval)


class Instance:
    """An unprivileged (or, as root, privilege-dropping) Postern instance."""

    def __init__(self, root, mail_owner=None):
        self.root = pathlib.Path(root)
        self.etc = self.root / "etc"
        self.queue = self.root / "queue"
        self.data = self.root / "data"
        self.maillog = self.root / "maillog"
        self.etc.mkdir(parents=True, exist_ok=True)
        self.mail_owner = mail_owner or pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(pwd.getpwnam(self.mail_owner).pw_gid).gr_name
        self.params = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "daemon_directory": str(LIBEXEC),
            "command_directory": str(SBIN),
            "mail_owner": self.mail_owner,
            "setgid_group": group,
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.root),
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "mail.example.test",
            # Tests expect "unknown[127.0.0.1]" whatever the machine's
            # resolver says about 127.0.0.1; test_smtpd_dns turns it on.
            "smtpd_peername_lookup": "no",
        }
        # Sanitizer runs (POSTERN_BUILD=build/asan): the daemons get the
        # sanitizer options too, so their reports land in log_path.
        sanitizer = [v for v in ("ASAN_OPTIONS", "UBSAN_OPTIONS",
                                 "LSAN_OPTIONS") if v in os.environ]
        if sanitizer:
            self.params["export_environment"] = " ".join(
                ["TZ", "MAIL_CONFIG", "LANG", *sanitizer])
        self.write_main()
        self.write_master("")

    # Configuration.
    def write_main(self, **extra):
        self.params.update(extra)
        text = "".join(f"{k} = {v}\n" for k, v in self.params.items())
        (self.etc / "main.cf").write_text(text)

    def write_master(self, text):
        (self.etc / "master.cf").write_text(text)

    # Commands.
    def postfix(self, *args, timeout=30):
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        return subprocess.run([str(SBIN / "postfix"), "-c", str(self.etc),
                               *args], capture_output=True, text=True,
                              env=env, timeout=timeout)

    def start(self):
        proc = self.postfix("start")
        assert proc.returncode == 0, proc.stderr + self.log()
        return proc

    def stop(self):
        return self.postfix("stop")

    # Observation.
    def log(self):
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=DEFAULT_TIMEOUT):
        regex = re.compile(pattern)
        return wait_until(lambda: regex.search(self.log()), timeout)

    def master_pid(self):
        try:
            return int((self.queue / "pid" / "master.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def processes(self, command=None):
        """PIDs of live processes of this instance (master and every daemon:
        they carry MAIL_CONFIG=our etc/), optionally only those running
        command."""
        marker = f"MAIL_CONFIG={os.path.realpath(self.etc)}".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                proc = pathlib.Path("/proc", entry)
                environ = (proc / "environ").read_bytes().split(b"\0")
                argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0]
                state = (proc / "stat").read_text().rsplit(") ", 1)[-1]
            except OSError:
                continue
            if marker not in environ or state.startswith("Z"):
                continue
            if not argv0.decode(errors="replace").startswith(str(BUILD)):
                continue
            if command and not argv0.decode().endswith("/" + command):
                continue
            pids.append(int(entry))
        return pids

    def cleanup(self):
        """Stop the instance and make sure none of its processes is left."""
        if self.master_pid() is not None:
            self.postfix("stop")
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def connect_tcp(port, timeout=DEFAULT_TIMEOUT):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def connect_unix(path, timeout=DEFAULT_TIMEOUT):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    return sock


def can_connect(port):
    """True if something accepts TCP connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class RawSMTP:
    """A raw SMTP connection: send bytes as they are, read whole replies
    (multi-line replies joined with newlines; "<EOF>" when the server
    closed)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

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
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def close(self):
        self.file.close()
        self.sock.close()
