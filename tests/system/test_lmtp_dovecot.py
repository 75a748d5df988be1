"""LMTP into Dovecot, as administrators run it: Postern's lmtp agent
delivers over Dovecot's LMTP UNIX socket, and Dovecot writes the Maildirs.

Dovecot (Debian's dovecot-lmtpd, installed by scripts/deps.sh) runs in
the foreground from a private configuration in a temporary directory, as
the invoking user, with a static userdb that accepts every user and
stores mail under DIR/mail/USER@DOMAIN.
"""
import grp
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

from instance import wait_until
from test_smtp import MASTER_CF, send, wait_status

DOVECOT = "/usr/sbin/dovecot"

CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = postern-test-{pid}
protocols = lmtp
ssl = no
log_path = {dir}/dovecot.log
mail_location = maildir:{dir}/mail/%u
default_internal_user = {user}
default_login_user = {user}
default_internal_group = {group}
first_valid_uid = 0
first_valid_gid = 0
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u allow_all_users=yes
}}
passdb {{
  driver = static
  args = nopassword=yes
}}
service lmtp {{
  unix_listener {dir}/lmtp {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


@pytest.fixture
def dovecot(mail_owner):
    if not os.path.exists(DOVECOT):
        pytest.fail("dovecot is not installed (scripts/deps.sh installs "
                    "dovecot-lmtpd)")
    # Somewhere every user can reach: as root, Postern's lmtp agent runs
    # as mail_owner and must get to the socket.
    path = pathlib.Path(tempfile.mkdtemp(prefix="postern-dovecot-"))
    os.chmod(path, 0o755)
    for sub in ("run", "state", "mail"):
        (path / sub).mkdir()
    me = pwd.getpwuid(os.geteuid())
    # Dovecot refuses to store mail as root: as root, mail is mail_owner's.
    owner = pwd.getpwnam(mail_owner) if os.geteuid() == 0 else me
    os.chown(path / "mail", owner.pw_uid, owner.pw_gid)
    conf = path / "dovecot.conf"
    conf.write_text(CONF.format(dir=path, pid=os.getpid(), user=me.pw_name,
                                group=grp.getgrgid(me.pw_gid).gr_name,
                                uid=owner.pw_uid, gid=owner.pw_gid))
    proc = subprocess.Popen([DOVECOT, "-c", str(conf), "-F"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: (path / "lmtp").exists(), 15), \
            proc.stderr.read1(4096) if proc.poll() is not None else ""
        yield path
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(path, ignore_errors=True)


def test_lmtp_into_dovecot_maildirs(instance, dovecot):
    (instance.etc / "transport").write_text(
        f"dv.test lmtp:unix:{dovecot}/lmtp\n")
    instance.write_main(
        mydestination="", default_transport="discard",
        transport_maps=f"texthash:{instance.etc}/transport",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s", transport_retry_time="1s")
    instance.write_master(MASTER_CF)
    instance.start()
    wait_until(lambda: (instance.queue / "public" / "cleanup").exists())
    queue_id = send(instance, "sender@example.org",
                    ["alice@dv.test", "bob@dv.test"],
                    "Subject: into dovecot\n\nhello dovecot\n")
    lines = wait_status(instance, queue_id, count=2, status="sent")
    for line in lines:
        assert re.fullmatch(rf"\S+\[{re.escape(str(dovecot))}/lmtp\]",
                            line["relay"]), line[0]
        assert line["dsn"] == "2.0.0" and "Saved" in line["reason"], line[0]
    for user in ("alice@dv.test", "bob@dv.test"):
        new = dovecot / "mail" / user / "new"
        assert wait_until(lambda: new.is_dir() and os.listdir(new)), \
            (dovecot / "dovecot.log").read_text()
        [name] = os.listdir(new)
        text = (new / name).read_text()
        assert "Subject: into dovecot" in text
        assert "hello dovecot" in text
        assert "Return-Path: <sender@example.org>" in text
