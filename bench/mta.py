"""mta.py - one throw-away MTA instance (Postern or Debian's Postfix).

Everything an instance owns lives under one directory: etc/ (main.cf,
master.cf, vmailbox), queue/, data/, mail/ (Maildirs) and the log file
maillog. Both kinds get the same main.cf settings; they differ only in what
is unavoidable: Postern's command and daemon directories point at the build
tree, and its mail_owner is "postern" (Postfix's is "postfix"). Postfix's
master.cf is Debian's stock one with chroot turned off (Postern has no
chroot); Postern's is conf/master.cf. Only the smtpd line changes, to
listen on 127.0.0.1:PORT.
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

import measure

POSTFIX_MASTER_CF = ("/usr/share/postfix/master.cf.dist",
                     "/etc/postfix/master.cf.proto")
QUEUE_ID = re.compile(r"^[0-9A-Za-z]{6,}$")
QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")
POSTERN_USER = "postern"
REPO = pathlib.Path(__file__).resolve().parents[1]


def free_port(avoid=()):
    """A TCP port on 127.0.0.1 that was free a moment ago and is not in
    avoid (the kernel may offer the same port twice in a row)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def ensure_postern_user():
    """As root, Postern's daemons run as the system user "postern" (as
    scripts/run.sh does; created if missing). Otherwise as the caller."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(POSTERN_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", "--user-group", POSTERN_USER],
                       check=True)
    return POSTERN_USER


def common_params(root, owner, group):
    """The main.cf settings both MTAs get, scenario settings aside."""
    return {
        "compatibility_level": "3.6",
        "queue_directory": f"{root}/queue",
        "data_directory": f"{root}/data",
        "mail_owner": owner,
        "setgid_group": group,
        "maillog_file": f"{root}/maillog",
        "maillog_file_prefixes": str(root),
        "myhostname": "mta.bench.test",
        "mydestination": "localhost",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "alias_maps": "",
        "local_recipient_maps": "",
        "smtpd_peername_lookup": "no",
    }


class Instance:
    """An MTA instance of kind "postern" or "postfix" under root."""

    def __init__(self, kind, root, port, build=None):
        self.kind = kind
        self.root = pathlib.Path(root)
        self.port = port
        self.build = pathlib.Path(build) if build else None
        self.etc = self.root / "etc"
        self.queue = self.root / "queue"
        self.maillog = self.root / "maillog"
        self.mail = self.root / "mail"
        if kind == "postern":
            self.owner = ensure_postern_user()
            self.postfix_cmd = str(self.build / "sbin" / "postfix")
        else:
            self.owner = "postfix"
            self.postfix_cmd = "/usr/sbin/postfix"
        entry = pwd.getpwnam(self.owner)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.group = ("postdrop" if kind == "postfix"
                      else grp.getgrgid(self.gid).gr_name)
        self._known = {}   # pid -> starttime of every process seen

    # Configuration.
    def configure(self, params, files=None):
        """Write main.cf (common settings + params), master.cf, and any
        extra files {name: text} into etc/; create the directories."""
        for sub in ("etc", "queue", "data", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            os.chown(self.root / "data", self.uid, self.gid)
            os.chown(self.mail, self.uid, self.gid)
        main = common_params(self.root, self.owner, self.group)
        if self.kind == "postern":
            main["command_directory"] = str(self.build / "sbin")
            main["daemon_directory"] = str(self.build / "libexec")
        main.update(params)
        text = "".join(f"{k} = {v}\n" for k, v in main.items())
        (self.etc / "main.cf").write_text(text)
        (self.etc / "master.cf").write_text(self._master_cf())
        for name, body in (files or {}).items():
            (self.etc / name).write_text(body)

    def _master_cf(self):
        if self.kind == "postern":
            source = REPO / "conf" / "master.cf"
        else:
            source = next(pathlib.Path(p) for p in POSTFIX_MASTER_CF
                          if os.path.exists(p))
        return master_cf_for(source.read_text(), self.port)

    # Life cycle.
    def _postfix(self, *args, timeout=60):
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        return subprocess.run([self.postfix_cmd, "-c", str(self.etc), *args],
                              capture_output=True, text=True, env=env,
                              timeout=timeout)

    def start(self, timeout=30):
        """Start the instance and wait until smtpd answers on its port."""
        if self.kind == "postfix":
            proc = self._postfix("check")
            if proc.returncode != 0:
                raise RuntimeError(f"postfix check failed: {proc.stderr}"
                                   f"{self.log_tail()}")
        proc = self._postfix("start")
        if proc.returncode != 0:
            raise RuntimeError(f"{self.kind} start exited "
                               f"{proc.returncode}: {proc.stderr.strip()}\n"
                               f"{self.log_tail()}")
        try:
            measure.wait_for(lambda: self.master_pid() and
                             can_connect(self.port), timeout, interval=0.05)
        except TimeoutError as exc:
            raise RuntimeError(f"{self.kind} did not listen on "
                               f"127.0.0.1:{self.port}: {exc}\n"
                               f"{self.log_tail()}") from None
        self.remember_processes()

    def master_pid(self):
        try:
            pid = int((self.queue / "pid" / "master.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if measure.read_stat(pid) else None

    def remember_processes(self):
        """Note the live processes of the instance, so stop() can kill any
        that outlive their master."""
        for pid in measure.process_tree(self.master_pid()):
            stat = measure.read_stat(pid)
            if stat:
                self._known[pid] = stat[7]

    def stop(self, timeout=20):
        """Stop the instance; SIGKILL whatever of it is left afterwards.
        Safe to call twice and on an instance that never started."""
        self.remember_processes()
        if self.master_pid():
            try:
                self._postfix("stop", timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            deadline = time.monotonic() + timeout
            while self.master_pid() and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.1)
        for pid, started in list(self._known.items()):
            stat = measure.read_stat(pid)
            if stat and stat[7] == started and stat[1] != "Z":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._known.clear()

    # Observation.
    def queue_counts(self):
        """Queue files (named by queue ID) per queue directory that can hold
        mail; other files an MTA keeps there (such as spare files made
        ahead of time) do not count."""
        counts = {}
        for name in QUEUE_DIRS:
            total = 0
            for _, _, files in os.walk(self.queue / name):
                total += sum(1 for f in files if QUEUE_ID.match(f))
            counts[name] = total
        return counts

    def queue_is_empty(self):
        return sum(self.queue_counts().values()) == 0

    def log_text(self):
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=15):
        return "\n".join(self.log_text().splitlines()[-lines:])


def master_cf_for(text, port):
    """master.cf text with the smtpd service moved to 127.0.0.1:port and
    chroot turned off (column 5) on every service line."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if line[:1].isalnum() and len(fields) >= 8:
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{port}"
            fields[4] = "n"
            line = " ".join(fields)
        out.append(line)
    return "\n".join(out) + "\n"
