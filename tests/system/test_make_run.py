"""`make run`'s script: a ready instance that takes mail for
alice@example.test into a Maildir, and stops cleanly on Ctrl-C (SIGINT).
"""
import os
import signal
import smtplib
import subprocess
import time

from conftest import BUILD, REPO
from instance import free_port, wait_until


def test_demo_instance_delivers_and_stops(tmp_path, mail_owner):
    run_dir = tmp_path / "run"
    port = free_port()
    env = dict(os.environ, RUN_DIR=str(run_dir), PORT=str(port),
               BUILD=os.path.relpath(BUILD, REPO), RUN_USER=mail_owner)
    env.pop("MAIL_CONFIG", None)
    if os.geteuid() == 0:  # the daemons run as mail_owner: let it in
        for path in (tmp_path, *tmp_path.parents):
            os.chmod(path, os.stat(path).st_mode | 0o011)
    proc = subprocess.Popen([str(REPO / "scripts" / "run.sh")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        def ready():
            try:
                smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
                return True
            except OSError:
                return False
        assert wait_until(ready, timeout=30)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("you@example.org", ["alice@example.test"],
                            "Subject: demo\r\n\r\nhello\r\n")
        new = run_dir / "mail" / "example.test" / "alice" / "new"
        assert wait_until(lambda: new.is_dir() and os.listdir(new)), \
            (run_dir / "maillog").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert "127.0.0.1:%d" % port in out
    assert "swaks --server" in out
    master_pid = run_dir / "queue" / "pid" / "master.pid"
    time.sleep(0.5)
    assert not master_pid.exists() or not _alive(master_pid), out


def _alive(pid_file):
    try:
        os.kill(int(pid_file.read_text()), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
