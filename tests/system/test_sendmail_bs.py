"""sendmail -bs (SMTP on standard input and output) and the submission
rules shared by sendmail and postdrop.

sendmail -bs runs daemon_directory/smtpd -S; smtpd hands the message to
the instance's cleanup (public/cleanup). Facts recorded from Debian's
Postfix 3.7 (scratch instance, syslog captured):
    postfix/smtpd[N]: connect from localhost[127.0.0.1]
    Received: from me (localhost [127.0.0.1])
            by HOST (Postfix) with ESMTP id QUEUEID
    sendmail: fatal: User nobody(65534) is not allowed to submit mail
                                                 (exit 75; postdrop: 1)
    sendmail: error: unauthorized configuration directory name: DIR
    sendmail: fatal: specify "alternate_config_directories = DIR" or
        "multi_instance_directories = DIR" in /etc/postfix/main.cf
                                                 (-C as non-root; exit 75)
An empty authorized_submit_users refuses root too.
"""
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import SBIN, run

MASTER_CF = "cleanup unix n - n - 0 cleanup\n"
ENV = {"TZ": "UTC"}
UID = os.getuid()
LOGIN = pwd.getpwuid(UID).pw_name

DIALOGUE = (b"EHLO me\r\n"
            b"MAIL FROM:<alice@example.org>\r\n"
            b"RCPT TO:<bob@example.net>\r\n"
            b"DATA\r\n"
            b"Subject: over a pipe\r\n"
            b"\r\n"
            b"hello through sendmail -bs\r\n"
            b".\r\n"
            b"QUIT\r\n")


@pytest.fixture
def mta(instance):
    instance.write_master(MASTER_CF)
    instance.start()
    sock = instance.queue / "public" / "cleanup"
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, instance.log()
        time.sleep(0.05)
    return instance


def sendmail_bs(inst, data, *args):
    env = dict(os.environ, **ENV)
    env.pop("MAIL_CONFIG", None)
    config = ["-C", str(inst.etc)]
    if UID != 0:
        # Only root may give -C an unlisted directory; MAIL_CONFIG is
        # trusted by sendmail (and by a postdrop that is not set-gid).
        env["MAIL_CONFIG"] = str(inst.etc)
        config = []
    return subprocess.run([str(SBIN / "sendmail"), *config, "-bs", *args],
                          input=data, capture_output=True, env=env,
                          timeout=30)


def test_full_dialogue_is_queued(mta):
    proc = sendmail_bs(mta, DIALOGUE)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    lines = out.split("\r\n")
    assert lines[0].startswith("220 mail.example.test ESMTP")
    assert "250 2.1.0 Ok" in lines
    assert "250 2.1.5 Ok" in lines
    assert any(line.startswith("354 ") for line in lines)
    match = re.search(r"250 2\.0\.0 Ok: queued as (\w+)", out)
    assert match, out
    assert lines[-2] == "221 2.0.0 Bye"
    queue_id = match.group(1)
    cat = run("postcat", "-c", mta.etc, "-q", queue_id, env=ENV)
    assert cat.returncode == 0, cat.stderr
    assert "sender: alice@example.org" in cat.stdout
    assert "recipient: bob@example.net" in cat.stdout
    assert "Subject: over a pipe" in cat.stdout
    assert "hello through sendmail -bs" in cat.stdout
    assert "Received: from me (localhost [127.0.0.1])" in cat.stdout
    assert f"with ESMTP id {queue_id}" in cat.stdout
    mta.wait_for_log(r"postfix/smtpd\[\d+\]: connect from "
                     r"localhost\[127\.0\.0\.1\]")
    mta.wait_for_log(rf"{queue_id}: client=localhost\[127\.0\.0\.1\]")


def test_stand_alone_takes_no_recipient(mta):
    proc = sendmail_bs(mta, b"QUIT\r\n", "bob@example.net")
    assert proc.returncode == 64
    assert (b"sendmail: fatal: stand-alone mode requires no recipient"
            in proc.stderr)


@pytest.mark.parametrize("acl", [f"!{LOGIN}, static:anyone", ""])
def test_unauthorized_user_is_refused(mta, acl):
    instance = mta
    instance.write_main(authorized_submit_users=acl)
    want = f"fatal: User {LOGIN}({UID}) is not allowed to submit mail"
    proc = sendmail_bs(instance, b"QUIT\r\n")
    assert proc.returncode == 75
    assert proc.stdout == b""
    assert f"sendmail: {want}" in proc.stderr.decode()
    proc = run("sendmail", "bob@example.net", input="Subject: x\n\nbody\n",
               env=dict(ENV, MAIL_CONFIG=str(instance.etc)))
    assert proc.returncode == 75
    assert f"sendmail: {want}" in proc.stderr
    proc = run("postdrop", "-c", instance.etc, input="", env=ENV)
    assert proc.returncode == 1
    assert f"postdrop: {want}" in proc.stderr


def test_authorized_user_listed_by_name(mta):
    mta.write_main(authorized_submit_users=f"{LOGIN}")
    proc = sendmail_bs(mta, b"QUIT\r\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(b"221 2.0.0 Bye\r\n")


def as_nobody():
    """argv prefix that runs a command as nobody, or None if impossible."""
    if UID != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    return ["setpriv", "--reuid=nobody", "--regid=nogroup",
            "--clear-groups"]


def assert_dir_refused(proc, prog, etc):
    err = proc.stderr.decode()
    default = "/etc/postfix/main.cf"
    if os.path.exists(default):
        assert (f"{prog}: error: unauthorized configuration directory "
                f"name: {etc}") in err
        assert (f'{prog}: fatal: specify "alternate_config_directories = '
                f'{etc}" or "multi_instance_directories = {etc}" in '
                f"{default}") in err
    else:
        assert f"{prog}: fatal: open {default}: " in err


def run_as_nobody(prefix, cmd, env):
    return subprocess.run(prefix + cmd, input=b"", capture_output=True,
                          env=env, timeout=30)


@pytest.fixture
def foreign_etc():
    """A config directory nobody can read, unlisted in the default main.cf,
    and a set-gid copy of postdrop (root's group) beside it."""
    top = tempfile.mkdtemp(prefix="postern-b2-")
    os.chmod(top, 0o755)
    etc = os.path.join(top, "etc")
    os.mkdir(etc)
    with open(os.path.join(etc, "main.cf"), "w") as fp:
        fp.write(f"queue_directory = {top}\n")
    postdrop = os.path.join(top, "postdrop")
    shutil.copy(SBIN / "postdrop", postdrop)
    if UID == 0:
        os.chown(postdrop, 0, 0)
    os.chmod(postdrop, 0o2755)
    yield pathlib.Path(etc), postdrop
    shutil.rmtree(top)


def clean_env():
    env = dict(os.environ, **ENV)
    env.pop("MAIL_CONFIG", None)
    return env


@pytest.mark.parametrize("how", ["sendmail -C", "postdrop -c",
                                 "postdrop MAIL_CONFIG"])
def test_alternate_config_dir_refused_to_ordinary_user(foreign_etc, how):
    prefix = as_nobody()
    if prefix is None or UID != 0:
        pytest.skip("needs root and setpriv to run as nobody set-gid")
    etc, postdrop = foreign_etc
    env = clean_env()
    if how == "sendmail -C":
        cmd = [str(SBIN / "sendmail"), "-C", str(etc), "-bs"]
    elif how == "postdrop -c":
        cmd = [postdrop, "-c", str(etc)]
    else:
        cmd = [postdrop]
        env["MAIL_CONFIG"] = str(etc)
    proc = run_as_nobody(prefix, cmd, env)
    prog = how.split()[0]
    assert proc.returncode == (75 if prog == "sendmail" else 1), proc.stderr
    assert_dir_refused(proc, prog, etc)


def test_postdrop_not_setgid_trusts_config_dir(foreign_etc):
    """Postfix's postdrop checks the directory only when it runs set-gid."""
    prefix = as_nobody()
    if prefix is None:
        pytest.skip("needs setpriv to run as nobody")
    etc, _ = foreign_etc
    with open(etc / "main.cf", "a") as fp:
        user = "nobody" if UID == 0 else LOGIN
        fp.write(f"authorized_submit_users = !{user}, static:anyone\n")
    proc = run_as_nobody(prefix, [str(SBIN / "postdrop"), "-c", str(etc)],
                         clean_env())
    assert proc.returncode == 1
    assert b"configuration directory" not in proc.stderr
    assert b"is not allowed to submit mail" in proc.stderr
