"""The virtual delivery agent end to end, without qmgr.

Each test starts an instance whose master.cf has cleanup and just the
agent ("virtual unix - n n - - virtual"), submits a message through
cleanup, moves the queue file to active/ and sends the agent a delivery
request with postern_proto.deliver. Expected results were recorded from
Debian's Postfix 3.7 virtual(8):
    postfix/virtual[24973]: 5F67EA80182: to=<md@vd.example>, relay=virtual,
      delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0,
      status=sent (delivered to maildir)
    ... status=sent (delivered to mailbox)
    ... to=<Unknown+Ext@vd2.example>, relay=virtual, ..., dsn=5.1.1,
      status=bounced (unknown user: "unknown+ext@vd2.example")
    ... dsn=4.2.0, status=deferred (maildir delivery failed: create
      maildir file /DIR/tmp/1795376181.P24973.vm: Permission denied)
    ... dsn=4.2.0, status=deferred (delivery failed to mailbox /DIR/ro/mbox:
      unable to create lock file /DIR/ro/mbox.lock: Permission denied)
    warning: recipient low@vd2.example: bad uid 50 in virtual_uid_maps
    ... dsn=4.3.5, status=deferred (mail system configuration error)
Mailbox content (Postfix's order: Return-Path, X-Original-To, Delivered-To;
mbox: "From sender  Sun Nov 22 19:36:21 2026", "From " lines quoted,
">From " left alone, an empty line after the message; the recorded
address keeps its case, the lookups use it lowercased).
"""
import os
import pathlib
import pwd
import re
import shutil
import stat
import tempfile
import time

import pytest

from postern_proto import deliver, delivery_request, read_records, submit

MASTER_CF = ("cleanup unix n - n - 0 cleanup\n"
             "virtual unix - n n - - virtual\n")

BODY = ("Subject: test\n"
        "From: a@b.example\n"
        "\n"
        "hello\n"
        "From the start\n"
        ">From quoted\n"
        " From space\n"
        "end\n")

LOG_SENT = (r"postfix/virtual\[\d+\]: {id}: to=<{to}>, relay=virtual, "
            r"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, "
            r"dsn=2\.0\.0, status=sent \(delivered to {kind}\)")


@pytest.fixture
def mailroot(mail_owner):
    """A mailbox base the mapped uid can write: outside pytest's private
    tmp_path, owned by that uid when running as root."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="postern-vmail."))
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        owner = pwd.getpwnam(mail_owner)
        os.chown(path, owner.pw_uid, owner.pw_gid)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def owner_ids(mail_owner):
    if os.geteuid() == 0:
        pw = pwd.getpwnam(mail_owner)
        return pw.pw_uid, pw.pw_gid
    return os.geteuid(), os.getegid()


@pytest.fixture
def virtual(instance, mailroot, mail_owner):
    uid, gid = owner_ids(mail_owner)
    tables = instance.root / "tables"
    tables.mkdir()
    (tables / "vmailbox").write_text(
        "md@vd.example md/\n"
        "mb@vd.example mb\n"
        "@vd.example catch/\n"
        "ro@vd2.example ro/sub/\n"
        "rombox@vd2.example ro/mbox\n"
        "dir@vd2.example adir\n"
        "low@vd2.example low/\n"
        "nouid@vd2.example nouid/\n")
    (tables / "uids").write_text(
        f"@vd.example {uid}\n"
        f"ro@vd2.example {uid}\n"
        f"rombox@vd2.example {uid}\n"
        f"dir@vd2.example {uid}\n"
        "low@vd2.example 50\n")
    (tables / "gids").write_text(f"@vd.example {gid}\n@vd2.example {gid}\n")
    instance.write_main(
        virtual_mailbox_base=str(mailroot),
        virtual_mailbox_maps=f"texthash:{tables}/vmailbox",
        virtual_uid_maps=f"texthash:{tables}/uids",
        virtual_gid_maps=f"texthash:{tables}/gids",
        virtual_minimum_uid="1" if uid >= 1 else "0",
        recipient_delimiter="+",
        deliver_lock_attempts="2",
        deliver_lock_delay="1s",
    )
    instance.write_master(MASTER_CF)
    instance.start()
    for name in ("public/cleanup", "private/virtual"):
        sock = instance.queue / name
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline, instance.log()
            time.sleep(0.05)
    instance.mailroot = mailroot
    return instance


def queue_message(inst, sender, recipients, text=BODY):
    """Submit through cleanup and move the file to active/; its path."""
    queue_id, reply = submit(inst.queue / "public" / "cleanup", sender,
                             recipients, text)
    assert reply["status"] == 0, reply
    (inst.queue / "active").mkdir(exist_ok=True)
    src = inst.queue / "incoming" / queue_id
    dst = inst.queue / "active" / queue_id
    os.rename(src, dst)
    return queue_id, dst


def run_delivery(inst, path, **extra):
    request = delivery_request(path, **extra)
    return deliver(inst.queue / "private" / "virtual", request)


def record_types(path):
    """The type of each recipient record, in order ('R' or 'D')."""
    return [t for _, t, _ in read_records(path) if t in "RD"]


def wait_log(inst, pattern):
    return inst.wait_for_log(pattern)


def msg_log(inst, log, queue_id):
    """The text of a per-message log, wherever hashing put it."""
    found = list((inst.queue / log).rglob(queue_id))
    assert len(found) == 1, (log, queue_id, found)
    return found[0].read_text()


def only_file(directory):
    files = [p for p in pathlib.Path(directory).iterdir()]
    assert len(files) == 1, files
    return files[0]


def test_maildir_delivery(virtual):
    queue_id, path = queue_message(virtual, "sender@ext.example",
                                   ["md@vd.example"])
    reply = run_delivery(virtual, path)
    assert reply["status"] == 0
    assert reply["results"] == b"S"
    wait_log(virtual, LOG_SENT.format(id=queue_id, to="md@vd\\.example",
                                      kind="maildir"))
    md = virtual.mailroot / "md"
    assert sorted(p.name for p in md.iterdir()) == ["cur", "new", "tmp"]
    assert list((md / "tmp").iterdir()) == []
    msg = only_file(md / "new")
    assert re.fullmatch(r"\d+\.\d+_\d+\.[^/]+", msg.name), msg.name
    assert stat.S_IMODE(msg.stat().st_mode) == 0o600
    text = msg.read_text()
    assert text.startswith("Return-Path: <sender@ext.example>\n"
                           "X-Original-To: md@vd.example\n"
                           "Delivered-To: md@vd.example\n"), text
    # Maildir: no quoting, no From_ line, no trailing empty line.
    assert text.endswith("\n\nhello\nFrom the start\n>From quoted\n"
                         " From space\nend\n"), text
    assert record_types(path) == ["D"]


def test_mbox_delivery_and_quoting(virtual):
    queue_id, path = queue_message(virtual, "sender@ext.example",
                                   ["mb@vd.example", "MB+ext@vd.example"])
    reply = run_delivery(virtual, path)
    assert reply["results"] == b"SS"
    wait_log(virtual, LOG_SENT.format(id=queue_id, to="MB\\+ext@vd\\.example",
                                      kind="mailbox"))
    text = (virtual.mailroot / "mb").read_text()
    messages = text.split("\n\nFrom ")
    assert len(messages) == 2
    from_line = re.compile(r"From sender@ext\.example  [A-Z][a-z]{2} "
                           r"[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}\n")
    assert from_line.match(text), text
    assert ("Return-Path: <sender@ext.example>\n"
            "X-Original-To: MB+ext@vd.example\n"
            "Delivered-To: MB+ext@vd.example\n") in text
    assert "\n>From the start\n>From quoted\n From space\nend\n\n" in text
    assert text.endswith("end\n\n")
    assert record_types(path) == ["D", "D"]
    assert not (virtual.mailroot / "mb.lock").exists()


def test_null_sender_and_catch_all(virtual):
    queue_id, path = queue_message(virtual, "", ["nobody@vd.example",
                                                 "mb@vd.example"])
    reply = run_delivery(virtual, path)
    assert reply["results"] == b"SS"
    wait_log(virtual, LOG_SENT.format(id=queue_id, to="nobody@vd\\.example",
                                      kind="maildir"))
    text = only_file(virtual.mailroot / "catch" / "new").read_text()
    assert text.startswith("Return-Path: <>\nX-Original-To: "
                           "nobody@vd.example\nDelivered-To: "
                           "nobody@vd.example\n")
    assert (virtual.mailroot / "mb").read_text().startswith(
        "From MAILER-DAEMON  ")


def test_unknown_user_bounces(virtual):
    queue_id, path = queue_message(virtual, "s@x.example",
                                   ["Unknown+Ext@vd2.example"])
    reply = run_delivery(virtual, path)
    assert reply["results"] == b"B"
    wait_log(virtual, rf"{queue_id}: to=<Unknown\+Ext@vd2\.example>, "
             r"relay=virtual, delay=[0-9.]+, delays=[0-9./]+, dsn=5\.1\.1, "
             r'status=bounced \(unknown user: "unknown\+ext@vd2\.example"\)')
    bounce = msg_log(virtual, "bounce", queue_id)
    assert "status=5.1.1\n" in bounce
    assert 'reason=unknown user: "unknown+ext@vd2.example"\n' in bounce
    assert record_types(path) == ["D"]


def test_unwritable_maildir_defers(virtual):
    ro = virtual.mailroot / "ro"
    ro.mkdir(mode=0o555)
    os.chmod(ro, 0o555)
    if os.geteuid() == 0:
        uid, gid = owner_ids(virtual.mail_owner)
        os.chown(ro, uid, gid)
    queue_id, path = queue_message(virtual, "s@x.example",
                                   ["ro@vd2.example", "rombox@vd2.example"])
    reply = run_delivery(virtual, path)
    assert reply["results"] == b"DD"
    root = re.escape(str(ro))
    wait_log(virtual, rf"{queue_id}: to=<ro@vd2\.example>, relay=virtual, "
             r"delay=[0-9.]+, delays=[0-9./]+, dsn=4\.2\.0, status=deferred "
             rf"\(maildir delivery failed: create maildir file {root}/sub/"
             r"tmp/\d+\.\d+_\d+\.[^:]+: Permission denied\)")
    wait_log(virtual, rf"{queue_id}: to=<rombox@vd2\.example>, "
             r"relay=virtual, .*dsn=4\.2\.0, status=deferred \(delivery "
             rf"failed to mailbox {root}/mbox: unable to create lock file "
             rf"{root}/mbox\.lock: Permission denied\)")
    assert "warning: perhaps you need to create the maildirs in advance" \
        in virtual.log()
    defer = msg_log(virtual, "defer", queue_id)
    assert "recipient=ro@vd2.example\n" in defer
    assert "status=4.2.0\n" in defer
    assert record_types(path) == ["R", "R"]


def test_mailbox_is_a_directory(virtual):
    (virtual.mailroot / "adir").mkdir()
    queue_id, path = queue_message(virtual, "s@x.example",
                                   ["dir@vd2.example"])
    assert run_delivery(virtual, path)["results"] == b"D"
    wait_log(virtual, rf"{queue_id}: to=<dir@vd2\.example>, .*dsn=4\.2\.0, "
             r"status=deferred \(delivery failed to mailbox "
             rf"{re.escape(str(virtual.mailroot))}/adir: cannot open file: "
             r"Is a directory\)")


def test_uid_checks(virtual):
    queue_id, path = queue_message(virtual, "s@x.example",
                                   ["low@vd2.example", "nouid@vd2.example"])
    virtual.write_main(virtual_minimum_uid="100")
    virtual.postfix("reload")
    time.sleep(0.5)
    reply = run_delivery(virtual, path)
    assert reply["results"] == b"DD"
    wait_log(virtual, r"warning: recipient low@vd2\.example: bad uid 50 in "
             r"virtual_uid_maps")
    wait_log(virtual, r"warning: recipient nouid@vd2\.example: not found in "
             r"virtual_uid_maps")
    wait_log(virtual, rf"{queue_id}: to=<low@vd2\.example>, .*dsn=4\.3\.5, "
             r"status=deferred \(mail system configuration error\)")
    assert record_types(path) == ["R", "R"]


def test_table_error_defers(virtual):
    virtual.write_main(virtual_gid_maps="texthash:/nonexistent/gids")
    virtual.postfix("reload")
    time.sleep(0.5)
    queue_id, path = queue_message(virtual, "s@x.example", ["md@vd.example"])
    assert run_delivery(virtual, path)["results"] == b"D"
    wait_log(virtual, rf"{queue_id}: to=<md@vd\.example>, .*dsn=4\.3\.0, "
             r"status=deferred \(virtual_gid_maps lookup error\)")
    assert record_types(path) == ["R"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch uids")
def test_files_owned_by_mapped_uid(virtual):
    uid, gid = owner_ids(virtual.mail_owner)
    queue_id, path = queue_message(virtual, "s@x.example",
                                   ["md@vd.example", "mb@vd.example"])
    assert run_delivery(virtual, path)["results"] == b"SS"
    md = virtual.mailroot / "md"
    for p in (md, md / "new", only_file(md / "new"), virtual.mailroot / "mb"):
        st = p.stat()
        assert (st.st_uid, st.st_gid) == (uid, gid), p
