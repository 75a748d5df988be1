"""The local delivery agent end to end, without qmgr.

Each test starts an instance with cleanup (for submitting, and for the
messages local forwards) and local, submits a message through
public/cleanup, moves the queue file to active/ as qmgr would, and sends
the delivery request itself (postern_proto.deliver). Then it checks the
reply's per-recipient results, the maillog line and the delivered files.
Expected wording recorded from Postfix 3.7's local(8):
    status=sent (delivered to file: /path)
    status=sent (delivered to command: cmd)
    status=sent (delivered to mailbox) / (delivered to maildir)
    status=sent (forwarded as 4F1C3A)
    status=bounced (unknown user: "nosuchuser")              dsn=5.1.1
    status=bounced (mail forwarding loop for a@example)      dsn=5.4.6
    status=bounced (mail to command is restricted)           dsn=5.7.1
    status=bounced (Command died with status 67: "exit 67")  dsn=5.1.1
"""
import grp
import os
import pathlib
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import run
from postern_proto import deliver, delivery_request, read_records, submit
from instance import queue_file_paths

DOMAIN = "mail.example.test"
MASTER_CF = ("cleanup unix n - n - 0 cleanup\n"
             "local unix - n n - - local\n")
IS_ROOT = os.geteuid() == 0
ME = pwd.getpwuid(os.geteuid()).pw_name
TEST_RCPT_USER = "postern-ltest"


@pytest.fixture
def local(instance):
    """An instance with cleanup and local; returns a helper object. The
    files deliveries write live in a directory of their own under /tmp,
    which every user may reach: as root, deliveries run as the recipient
    or as default_privs (nobody)."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="postern-local-"))
    os.chmod(work, 0o777)
    yield LocalRig(instance, work)
    shutil.rmtree(work, ignore_errors=True)


class LocalRig:
    def __init__(self, inst, work):
        self.inst = inst
        self.dir = work
        self.aliases = self.dir / "aliases"
        self.aliases.write_text("")
        self.started = False

    def configure(self, aliases="", **params):
        self.aliases.write_text(aliases)
        base = {
            "mydestination": f"{DOMAIN}, localhost",
            "alias_maps": f"hash:{self.aliases}",
            "mail_spool_directory": str(self.dir / "spool"),
            "forward_path": f"{self.dir}/$user.forward",
        }
        base.update(params)
        self.inst.write_main(**base)
        proc = run("postalias", "-c", self.inst.etc, f"hash:{self.aliases}")
        assert proc.returncode == 0, proc.stderr
        self.inst.write_master(MASTER_CF)
        (self.dir / "spool").mkdir(exist_ok=True)
        os.chmod(self.dir / "spool", 0o1777)
        self.inst.start()
        self.started = True
        for name in ("public/cleanup", "private/local"):
            sock = self.inst.queue / name
            deadline = time.monotonic() + 10
            while not sock.exists():
                assert time.monotonic() < deadline, self.inst.log()
                time.sleep(0.05)

    def submit(self, rcpts, text=None, sender="sender@example.org",
               headers=""):
        if text is None:
            text = (f"{headers}From: sender@example.org\nSubject: test\n\n"
                    "hello\nFrom the body\n")
        queue_id, reply = submit(self.inst.queue / "public" / "cleanup",
                                 sender, rcpts, text)
        assert reply["status"] == 0, reply
        src = self.inst.queue / "incoming" / queue_id
        dst = self.inst.queue / "active" / queue_id
        (self.inst.queue / "active").mkdir(exist_ok=True)
        os.rename(src, dst)
        return queue_id, dst

    def deliver(self, rcpts, **kwargs):
        """Submit, deliver, return (queue_id, reply)."""
        queue_id, path = self.submit(rcpts, **kwargs)
        req = delivery_request(path, nexthop=DOMAIN)
        reply = deliver(self.inst.queue / "private" / "local", req)
        return queue_id, reply

    def log_line(self, queue_id, rcpt=None):
        pattern = rf"postfix/local\[\d+\]: {queue_id}: to=<"
        if rcpt:
            pattern += re.escape(rcpt) + ">"
        return self.inst.wait_for_log(pattern + r".*").group(0)

    def incoming(self, exclude=()):
        return [pathlib.Path(p)
                for p in queue_file_paths(self.inst.queue / "incoming")
                if os.path.basename(p) not in exclude]


def results(reply):
    value = reply["results"]
    return value.decode() if isinstance(value, bytes) else value


# --- aliases to files, commands, :include: and addresses -------------------

def test_alias_to_file(local):
    box = local.dir / "box"
    local.configure(f"mylist: {box}\n")
    queue_id, reply = local.deliver([f"mylist@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    line = local.log_line(queue_id)
    assert f"to=<mylist@{DOMAIN}>, relay=local, " in line
    assert f"dsn=2.0.0, status=sent (delivered to file: {box})" in line
    text = box.read_text()
    assert text.startswith("From sender@example.org  ")
    assert "Return-Path: <sender@example.org>\n" in text
    assert f"X-Original-To: mylist@{DOMAIN}\n" in text
    assert f"Delivered-To: mylist@{DOMAIN}\n" in text
    assert "\nhello\n>From the body\n\n" in text


def test_alias_to_command_environment(local):
    out = local.dir / "cmd.out"
    command = f"env > {out}.env; cat > {out}"
    local.configure(f'cmd: "|{command}"\n', recipient_delimiter="+")
    queue_id, reply = local.deliver([f"cmd+ext@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    line = local.log_line(queue_id)
    assert f"status=sent (delivered to command: {command})" in line
    env = dict(l.split("=", 1) for l in
               (local.dir / "cmd.out.env").read_text().splitlines()
               if "=" in l)
    assert env["SENDER"] == "sender@example.org"
    assert env["RECIPIENT"] == f"cmd+ext@{DOMAIN}"
    assert env["LOCAL"] == "cmd+ext"
    assert env["USER"] == "cmd"
    assert env["LOGNAME"] == "cmd"
    assert env["EXTENSION"] == "ext"
    assert env["DOMAIN"] == DOMAIN
    assert env["ORIGINAL_RECIPIENT"] == f"cmd+ext@{DOMAIN}"
    assert env["PATH"] == "/usr/bin:/bin"
    text = out.read_text()
    assert text.startswith("From sender@example.org  ")
    assert f"Delivered-To: cmd+ext@{DOMAIN}\n" in text
    # Commands get the body as it is: no "From " quoting, no blank line.
    assert text.endswith("hello\nFrom the body\n")


def test_command_exit_status_bounces_and_defers(local):
    local.configure('nouser: "|exit 67"\ntemp: "|echo busy; exit 75"\n')
    queue_id, reply = local.deliver([f"nouser@{DOMAIN}", f"temp@{DOMAIN}"])
    assert results(reply) == "BD", local.inst.log()
    line = local.log_line(queue_id, f"nouser@{DOMAIN}")
    assert ('dsn=5.1.1, status=bounced (Command died with status 67: '
            '"exit 67")') in line
    line = local.log_line(queue_id, f"temp@{DOMAIN}")
    assert ('dsn=4.3.0, status=deferred (Command died with status 75: '
            '"echo busy; exit 75". Command output: busy)') in line


def test_command_time_limit(local):
    local.configure('slow: "|sleep 30"\n', command_time_limit="1s")
    queue_id, reply = local.deliver([f"slow@{DOMAIN}"])
    assert results(reply) == "B"
    assert ('dsn=5.3.0, status=bounced (Command time limit exceeded: '
            '"sleep 30")') in local.log_line(queue_id)


def test_include_file(local):
    box = local.dir / "incbox"
    members = local.dir / "members"
    members.write_text(f"# members\n{box}\n")
    local.configure(f"team: :include:{members}\n")
    queue_id, reply = local.deliver([f"team@{DOMAIN}"])
    # allow_mail_to_files = alias, forward: not from :include: files.
    assert results(reply) == "B"
    assert ("dsn=5.7.1, status=bounced (mail to file is restricted)"
            in local.log_line(queue_id))
    assert not box.exists()


def test_include_file_allowed(local):
    box = local.dir / "incbox"
    members = local.dir / "members"
    members.write_text(f"{box}\n")
    local.configure(f"team: :include:{members}\n",
                    allow_mail_to_files="alias, forward, include")
    queue_id, reply = local.deliver([f"team@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert f"(delivered to file: {box})" in local.log_line(queue_id)
    assert "hello" in box.read_text()


def test_alias_to_command_refused(local):
    local.configure('cmd: "|cat > /dev/null"\n',
                    allow_mail_to_commands="forward")
    queue_id, reply = local.deliver([f"cmd@{DOMAIN}"])
    assert results(reply) == "B"
    assert ("dsn=5.7.1, status=bounced (mail to command is restricted)"
            in local.log_line(queue_id))


def test_alias_to_remote_address_is_forwarded(local):
    local.configure("fwd: someone@example.org, other@example.net\n")
    queue_id, reply = local.deliver([f"fwd@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    line = local.log_line(queue_id)
    match = re.search(r"dsn=2\.0\.0, status=sent \(forwarded as (\w+)\)",
                      line)
    assert match, line
    new_id = match.group(1)
    files = [p for p in local.incoming() if p.name == new_id]
    assert files, local.incoming()
    records = read_records(files[0])
    rcpts = [d.decode() for _, t, d in records if t == "R"]
    origs = [d.decode() for _, t, d in records if t == "O"]
    sender = [d.decode() for _, t, d in records if t == "S"]
    assert rcpts == ["someone@example.org", "other@example.net"]
    assert origs == [f"fwd@{DOMAIN}"] * 2
    assert sender == ["sender@example.org"]
    content = b"\n".join(d for _, t, d in records if t in "NL")
    assert re.search(rb"^Received: by mail\.example\.test \(Postfix\)\n"
                     rb"\tid " + new_id.encode() + rb"; ", content), content
    assert f"Delivered-To: fwd@{DOMAIN}".encode() in content
    assert b"hello" in content


def test_owner_alias_sets_sender(local):
    local.configure("mylist: someone@example.org\nowner-mylist: boss\n")
    queue_id, reply = local.deliver([f"mylist@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    new_id = re.search(r"forwarded as (\w+)",
                       local.log_line(queue_id)).group(1)
    path = [p for p in local.incoming() if p.name == new_id][0]
    sender = [d.decode() for _, t, d in read_records(path) if t == "S"]
    assert sender == [f"owner-mylist@{DOMAIN}"]


# --- loops and limits --------------------------------------------------------

def test_delivered_to_loop(local):
    box = local.dir / "box"
    local.configure(f"mylist: {box}\n")
    queue_id, reply = local.deliver(
        [f"mylist@{DOMAIN}"], headers=f"Delivered-To: MYLIST@{DOMAIN}\n")
    assert results(reply) == "B"
    assert (f"dsn=5.4.6, status=bounced (mail forwarding loop for "
            f"mylist@{DOMAIN})") in local.log_line(queue_id)
    assert not box.exists()


def test_alias_loop(local):
    local.configure("a: b\nb: a\n")
    queue_id, reply = local.deliver([f"a@{DOMAIN}"])
    assert results(reply) == "B", local.inst.log()
    assert re.search(r"dsn=5\.4\.6, status=bounced \(alias database loop "
                     r"for [ab]\)", local.log_line(queue_id))


def test_alias_listing_itself_goes_to_mailbox(local):
    box = local.dir / "copy"
    local.configure(f"{ME}: {ME}, {box}\n")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    log = local.inst.log()
    assert "(delivered to mailbox)" in log
    assert f"(delivered to file: {box})" in log
    assert (local.dir / "spool" / ME).exists()


def test_duplicate_destinations_delivered_once(local):
    box = local.dir / "box"
    local.configure(f"a: {box}, b\nb: {box}\n")
    queue_id, reply = local.deliver([f"a@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert box.read_text().count("Subject: test") == 1


def test_duplicate_recipients_in_one_request(local):
    box = local.dir / "box"
    local.configure(f"a: {box}\nb: {box}\n")
    queue_id, reply = local.deliver([f"a@{DOMAIN}", f"b@{DOMAIN}"])
    # b's only destination was done for a: b is finished, silently.
    assert results(reply) == "SS", local.inst.log()
    assert box.read_text().count("Subject: test") == 1
    assert f"to=<b@{DOMAIN}>" not in local.inst.log()
    records = read_records(local.inst.queue / "active" / queue_id)
    assert [t for _, t, _ in records if t in "RD"] == ["D", "D"]


# --- extensions ----------------------------------------------------------------

def test_extension_falls_back_to_user_alias(local):
    box, special = local.dir / "box", local.dir / "special"
    local.configure(f"user: {box}\nuser+special: {special}\n",
                    recipient_delimiter="+")
    queue_id, reply = local.deliver([f"user+foo@{DOMAIN}",
                                     f"User+Special@{DOMAIN}"])
    assert results(reply) == "SS", local.inst.log()
    assert box.exists() and special.exists()
    assert f"X-Original-To: user+foo@{DOMAIN}" in box.read_text()


def test_extension_without_delimiter_setting(local):
    local.configure("user: /dev/null\n")
    queue_id, reply = local.deliver([f"user+foo@{DOMAIN}"])
    assert results(reply) == "B"
    assert ('dsn=5.1.1, status=bounced (unknown user: "user+foo")'
            in local.log_line(queue_id))


# --- unknown users --------------------------------------------------------------

def test_unknown_user_bounces(local):
    local.configure("")
    queue_id, reply = local.deliver([f"nosuchuser-xyz@{DOMAIN}"])
    assert results(reply) == "B"
    line = local.log_line(queue_id)
    assert f"to=<nosuchuser-xyz@{DOMAIN}>, relay=local, " in line
    assert ('dsn=5.1.1, status=bounced (unknown user: "nosuchuser-xyz")'
            in line)
    bounce_log = local.inst.queue / "bounce" / queue_id
    assert bounce_log.exists()
    assert "status=5.1.1" in bounce_log.read_text()


def test_luser_relay(local):
    box = local.dir / "catch"
    local.configure(f"catchall: {box}\n", luser_relay=f"catchall@{DOMAIN}")
    queue_id, reply = local.deliver([f"nosuchuser-xyz@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert f"(delivered to file: {box})" in local.inst.log()
    assert "hello" in box.read_text()


def test_postmaster_without_alias_is_discarded(local):
    local.configure("")
    queue_id, reply = local.deliver([f"postmaster@{DOMAIN}"])
    assert results(reply) == "S"
    assert "status=sent (discarded)" in local.log_line(queue_id)
    assert "warning: required alias not found: postmaster" in local.inst.log()


# --- mailboxes -------------------------------------------------------------------

def test_mailbox_in_spool_directory(local):
    local.configure("")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert "status=sent (delivered to mailbox)" in local.log_line(queue_id)
    text = (local.dir / "spool" / ME).read_text()
    assert text.startswith("From sender@example.org  ")
    assert f"Delivered-To: {ME}@{DOMAIN}\n" in text
    assert text.endswith("hello\n>From the body\n\n")


def test_maildir_in_spool_directory(local):
    local.configure("", mail_spool_directory=str(local.dir / "md") + "/")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert "status=sent (delivered to maildir)" in local.log_line(queue_id)
    new = list((local.dir / "md" / ME / "new").iterdir())
    assert len(new) == 1
    assert "Return-Path: <sender@example.org>" in new[0].read_text()


def test_mailbox_command(local):
    out = local.dir / "mbcmd"
    local.configure("", mailbox_command=f'cat > {out}; echo "$USER" >> {out};'
                    f' id -u >> {out}')
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert f'status=sent (delivered to command: cat > {out};' in \
        local.log_line(queue_id)
    text = out.read_text()
    assert "hello" in text
    # Not expanded by main.cf or local: the shell sees $USER. Mail for
    # root runs as default_privs.
    uid = pwd.getpwnam("nobody").pw_uid if IS_ROOT else os.geteuid()
    assert text.endswith(f"{ME}\n{uid}\n")


def test_mailbox_size_limit_bounces(local):
    local.configure("", mailbox_size_limit="2000",
                    message_size_limit="2000")
    box = local.dir / "spool" / ME
    box.write_text("x" * 1900 + "\n")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "B", local.inst.log()
    assert "dsn=5.2.2, status=bounced (cannot update mailbox" in \
        local.log_line(queue_id)


def test_unwritable_file_defers(local):
    ro = local.dir / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    local.configure(f"mylist: {ro}/box\n")
    try:
        queue_id, reply = local.deliver([f"mylist@{DOMAIN}"])
    finally:
        os.chmod(ro, 0o755)
    if IS_ROOT:
        # The alias file is root's: the delivery runs as default_privs.
        pass
    assert results(reply) == "D", local.inst.log()
    line = local.log_line(queue_id)
    assert f"status=deferred (cannot append message to file {ro}/box" in line
    assert any(queue_id in files for _, _, files in
               os.walk(local.inst.queue / "defer"))


def test_mailbox_transport_hand_off(local):
    # The other agent is a second local service without mailbox_transport;
    # its outcome (and its log line) is ours.
    local.configure("", mailbox_transport="local2")
    local.inst.stop()
    local.inst.write_master(MASTER_CF + "local2 unix - n n - - local"
                            " -o mailbox_transport=\n")
    local.inst.start()
    sock = local.inst.queue / "private" / "local2"
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, local.inst.log()
        time.sleep(0.05)
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert "(delivered to mailbox)" in local.log_line(queue_id)
    assert (local.dir / "spool" / ME).exists()


def test_mailbox_transport_unavailable_defers(local):
    local.configure("", mailbox_transport="nosuchtransport")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "D"
    assert ("dsn=4.3.0, status=deferred (mail transport unavailable)"
            in local.log_line(queue_id))


# --- .forward ---------------------------------------------------------------------

def test_dot_forward(local):
    box = local.dir / "fwdbox"
    (local.dir / f"{ME}.forward").write_text(f"{box}, {ME}\n")
    local.configure("")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    log = local.inst.log()
    assert f"(delivered to file: {box})" in log
    assert "(delivered to mailbox)" in log
    assert "hello" in box.read_text()


def test_empty_dot_forward_means_mailbox(local):
    (local.dir / f"{ME}.forward").write_text("# nothing\n")
    local.configure("")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert "(delivered to mailbox)" in local.log_line(queue_id)


def test_world_writable_dot_forward_is_ignored(local):
    box = local.dir / "fwdbox"
    fwd = local.dir / f"{ME}.forward"
    fwd.write_text(f"{box}\n")
    os.chmod(fwd, 0o666)
    local.configure("")
    queue_id, reply = local.deliver([f"{ME}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert f"warning: file {fwd} is world writable" in local.inst.log()
    assert "(delivered to mailbox)" in local.log_line(queue_id)
    assert not box.exists()


# --- as root: a real recipient user ------------------------------------------------

@pytest.fixture
def rcpt_user(local):
    """A user with a home directory in the rig's directory (root only)."""
    if not IS_ROOT:
        pytest.skip("needs root")
    home = local.dir / "home"
    created = False
    try:
        pwd.getpwnam(TEST_RCPT_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--home-dir",
                        str(home), "--shell", "/bin/sh", TEST_RCPT_USER],
                       check=True)
        created = True
    pw = pwd.getpwnam(TEST_RCPT_USER)
    home = pathlib.Path(pw.pw_dir)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    yield pw
    shutil.rmtree(home, ignore_errors=True)
    if created:
        subprocess.run(["userdel", TEST_RCPT_USER], check=False,
                       capture_output=True)
        try:
            grp.getgrnam(TEST_RCPT_USER)
            subprocess.run(["groupdel", TEST_RCPT_USER], check=False,
                           capture_output=True)
        except KeyError:
            pass


def test_root_mailbox_owned_by_recipient(local, rcpt_user):
    local.configure("", home_mailbox="Maildir/")
    queue_id, reply = local.deliver([f"{rcpt_user.pw_name}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    new = pathlib.Path(rcpt_user.pw_dir, "Maildir", "new")
    files = list(new.iterdir())
    assert len(files) == 1
    assert files[0].stat().st_uid == rcpt_user.pw_uid


def test_root_spool_mailbox_owned_by_recipient(local, rcpt_user):
    local.configure("")
    spool = local.dir / "spool"
    os.chmod(spool, 0o755)  # only root may create: local creates and chowns
    queue_id, reply = local.deliver([f"{rcpt_user.pw_name}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    box = spool / rcpt_user.pw_name
    assert box.stat().st_uid == rcpt_user.pw_uid
    assert "hello" in box.read_text()


def test_root_dot_forward_command_runs_as_user(local, rcpt_user):
    out = pathlib.Path(rcpt_user.pw_dir, "id.out")
    fwd = pathlib.Path(rcpt_user.pw_dir, ".forward")
    fwd.write_text(f'"|id -u > {out}"\n')
    os.chown(fwd, rcpt_user.pw_uid, rcpt_user.pw_gid)
    local.configure("", forward_path="$home/.forward")
    queue_id, reply = local.deliver([f"{rcpt_user.pw_name}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert out.read_text().strip() == str(rcpt_user.pw_uid)
    assert out.stat().st_uid == rcpt_user.pw_uid


def test_root_dot_forward_with_bad_owner_is_ignored(local, rcpt_user):
    fwd = pathlib.Path(rcpt_user.pw_dir, ".forward")
    fwd.write_text("/tmp/should-not-exist-postern\n")
    nobody = pwd.getpwnam("nobody")
    os.chown(fwd, nobody.pw_uid, nobody.pw_gid)
    local.configure("", forward_path="$home/.forward")
    queue_id, reply = local.deliver([f"{rcpt_user.pw_name}@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert (f"warning: file {fwd} has bad owner uid {nobody.pw_uid}"
            in local.inst.log())
    assert "(delivered to mailbox)" in local.log_line(queue_id)


def test_root_alias_command_runs_as_default_privs(local):
    if not IS_ROOT:
        pytest.skip("needs root")
    out = local.dir / "id.out"
    local.configure(f'cmd: "|id -u > {out}"\n')
    queue_id, reply = local.deliver([f"cmd@{DOMAIN}"])
    assert results(reply) == "S", local.inst.log()
    assert out.read_text().strip() == str(pwd.getpwnam("nobody").pw_uid)
