"""Bad input and faults on the receive path (smtpd -> cleanup -> incoming/).

Each case checks what the client hears, what is logged, and above all what
is left in the queue: nothing that could be delivered unless the client
got a 250. Replies are Postfix 3.7's (smtpd.c / cleanup_strerror.c):
    451 4.3.0 Error: queue file write error
    452 4.3.1 Insufficient system storage
    552 5.3.4 Message size exceeds fixed limit
The full-disk case mounts a 2 MB tmpfs on the queue directory, so it runs
only as root.
"""
import os
import re
import signal
import stat
import subprocess
import time

import pytest


from conftest import run
from instance import (RawSMTP, can_connect, free_port,
                      queue_file_paths, wait_until)

ENV = {"TZ": "UTC"}
WRITE_ERROR = "451 4.3.0 Error: queue file write error"


def start(inst, master_extra="", with_cleanup=True, **params):
    inst.port = free_port()
    inst.write_main(smtpd_error_sleep_time="0", local_recipient_maps="",
                    service_throttle_time="1s", **params)
    master = "cleanup unix n - n - 1 cleanup\n" if with_cleanup else ""
    master += f"127.0.0.1:{inst.port} inet n - n - - smtpd\n" + master_extra
    inst.write_master(master)
    inst.start()
    wait_until(lambda: can_connect(inst.port))
    return inst


def open_transaction(inst, rcpt="joe@mail.example.test"):
    """EHLO, MAIL, RCPT; returns the connection and the queue ID smtpd
    logged when it opened the cleanup submission."""
    conn = RawSMTP(inst.port)
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd(f"RCPT TO:<{rcpt}>") == "250 2.1.5 Ok"
    ids = re.findall(r"smtpd\[\d+\]: (\w+): client=unknown", inst.log())
    return conn, ids[-1]


def queue_path(inst, queue_id):
    return inst.queue / "incoming" / queue_id


def incoming(inst):
    out = {}
    for path in queue_file_paths(inst.queue / "incoming"):
        try:
            out[os.path.basename(path)] = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            pass
    return out


def assert_all_marked_valid(inst):
    """Every file with the completion mark walks cleanly."""
    for name, mode in incoming(inst).items():
        if mode & stat.S_IXUSR:
            proc = run("postcat", "-c", inst.etc, "-q", name, env=ENV)
            assert proc.returncode == 0, proc.stderr


def gone(inst, queue_id):
    return not queue_path(inst, queue_id).exists()


# --- a client that goes away -------------------------------------------

@pytest.mark.parametrize("tail", [
    "Subject: x\r\n\r\nbody\r\n",            # after whole lines
    "Subject: x\r\n\r\n" + "y" * 5000,       # inside a long line
    "",                                       # right after 354
])
def test_disconnect_mid_data_removes_the_file(instance, tail):
    inst = start(instance)
    conn, queue_id = open_transaction(inst)
    assert queue_path(inst, queue_id).exists()
    assert conn.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    conn.send(tail)
    time.sleep(0.2)
    conn.close()
    # Our smtpd leaves out "(0 bytes)" when nothing came after the 354.
    inst.wait_for_log(r"lost connection after DATA (\(\d+ bytes\) )?from "
                      r"unknown\[127\.0\.0\.1\]")
    wait_until(lambda: gone(inst, queue_id))
    assert incoming(inst) == {}


def test_disconnect_after_rcpt_removes_the_file(instance):
    inst = start(instance)
    conn, queue_id = open_transaction(inst)
    conn.close()
    inst.wait_for_log(r"lost connection after RCPT from "
                      r"unknown\[127\.0\.0\.1\]")
    wait_until(lambda: gone(inst, queue_id))
    assert incoming(inst) == {}


def test_rset_and_quit_remove_the_file(instance):
    inst = start(instance)
    conn, first = open_transaction(inst)
    assert conn.cmd("RSET") == "250 2.0.0 Ok"
    wait_until(lambda: gone(inst, first))
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd("RCPT TO:<joe@mail.example.test>") == "250 2.1.5 Ok"
    second = re.findall(r"(\w+): client=unknown", inst.log())[-1]
    assert second != first
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()
    wait_until(lambda: gone(inst, second))
    assert incoming(inst) == {}


# --- size limits --------------------------------------------------------

def test_too_big_in_smtpd_leaves_nothing(instance):
    inst = start(instance, message_size_limit="2000")
    conn, queue_id = open_transaction(inst)
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: big\r\n\r\n" + ("x" * 98 + "\r\n") * 40 + ".\r\n")
    assert conn.reply() == "552 5.3.4 Message size exceeds fixed limit"
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()
    inst.wait_for_log(rf"{queue_id}: reject: END-OF-MESSAGE from "
                      r"unknown\[127\.0\.0\.1\]: 552 5\.3\.4 Message size "
                      r"exceeds fixed limit; from=<a@b\.test> "
                      r"to=<joe@mail\.example\.test> proto=ESMTP "
                      r"helo=<client\.example>")
    wait_until(lambda: gone(inst, queue_id))
    assert incoming(inst) == {}


def test_too_big_in_cleanup_leaves_nothing(instance):
    """Content under smtpd's count but over cleanup's, which includes the
    envelope and the Received: header: cleanup says 'message file too
    big', smtpd answers 552, the file is removed."""
    inst = start(instance, message_size_limit="3000")
    conn, queue_id = open_transaction(inst)
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: edge\r\n\r\n" + ("z" * 98 + "\r\n") * 28 + ".\r\n")
    assert conn.reply() == "552 5.3.4 Message size exceeds fixed limit"
    conn.close()
    inst.wait_for_log(rf"cleanup\[\d+\]: warning: {queue_id}: queue file "
                      r"size limit exceeded")
    inst.wait_for_log(rf"{queue_id}: reject: END-OF-MESSAGE from .*: 552 "
                      r"5\.3\.4 Message size exceeds fixed limit;")
    wait_until(lambda: gone(inst, queue_id))
    assert incoming(inst) == {}


# --- cleanup missing or dying ------------------------------------------

def test_cleanup_not_running(instance):
    inst = start(instance, with_cleanup=False)
    conn = RawSMTP(inst.port)
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd("RCPT TO:<joe@mail.example.test>") == WRITE_ERROR
    assert conn.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert conn.cmd("QUIT") == "221 2.0.0 Bye"
    conn.close()
    inst.wait_for_log(r"smtpd\[\d+\]: warning: unknown\[127\.0\.0\.1\]: "
                      r"connect to \S*cleanup: No such file or directory")
    assert incoming(inst) == {}


def test_cleanup_killed_mid_data(instance):
    """SIGKILL leaves cleanup no chance to remove its file: the file stays
    incomplete (0600, no mark), smtpd answers 451 and the next message
    goes through a new cleanup process."""
    inst = start(instance)
    conn, queue_id = open_transaction(inst)
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: doomed\r\n\r\nfirst half\r\n")
    pids = wait_until(lambda: inst.processes("cleanup"))
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    inst.wait_for_log(r"cleanup pid \d+ killed by signal 9")
    conn.send("second half\r\n.\r\n")
    assert conn.reply() == WRITE_ERROR
    inst.wait_for_log(rf"{queue_id}: reject: END-OF-MESSAGE from .*: 451 "
                      r"4\.3\.0 Error: queue file write error;")
    assert incoming(inst).get(queue_id, 0o600) == 0o600
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd("RCPT TO:<joe@mail.example.test>") == "250 2.1.5 Ok"
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: fine\r\n\r\nok\r\n.\r\n")
    match = re.fullmatch(r"250 2\.0\.0 Ok: queued as (\w+)", conn.reply())
    assert match
    conn.close()
    assert incoming(inst)[match.group(1)] == 0o700
    assert_all_marked_valid(inst)


# --- damaged files are never made complete -----------------------------

def test_foreign_incomplete_files_stay_incomplete(instance):
    inst = start(instance)
    conn, queue_id = open_transaction(inst)
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: good\r\n\r\nok\r\n.\r\n")
    assert conn.reply() == f"250 2.0.0 Ok: queued as {queue_id}"
    conn.close()
    good = queue_path(inst, queue_id).read_bytes()
    planted = {
        "1A2B3C4D5E6": b"garbage, not a queue file\n",
        "2B3C4D5E6F7": good[:len(good) // 2],           # truncated
        "3C4D5E6F7A8": b"",                               # empty
    }
    for name, data in planted.items():
        path = queue_path(inst, name)
        path.write_bytes(data)
        os.chmod(path, 0o600)
    unreadable = queue_path(inst, "4D5E6F7A8B9")
    unreadable.write_bytes(good)
    os.chmod(unreadable, 0o000)
    # More traffic and a restart must leave them exactly as they are.
    for _ in range(3):
        conn, _ = open_transaction(inst)
        assert conn.cmd("DATA").startswith("354")
        conn.send("Subject: more\r\n\r\nok\r\n.\r\n")
        assert conn.reply().startswith("250 2.0.0 Ok: queued as")
        conn.close()
    assert inst.stop().returncode == 0
    start(inst)
    files = incoming(inst)
    for name, data in planted.items():
        assert files[name] == 0o600, name
        assert queue_path(inst, name).read_bytes() == data
        proc = run("postcat", "-c", inst.etc, "-q", name, env=ENV)
        assert proc.returncode != 0
    assert files["4D5E6F7A8B9"] == 0o000
    for name, mode in files.items():
        if name not in planted and name != "4D5E6F7A8B9":
            assert mode == 0o700, name
    os.chmod(unreadable, 0o600)
    assert_all_marked_valid(inst)


# --- a full disk ---------------------------------------------------------

@pytest.fixture
def small_queue(instance):
    """The instance's queue directory on a 2 MB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    instance.queue.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=755",
                           "postern-test", str(instance.queue)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield instance
    finally:
        instance.cleanup()
        for _ in range(50):
            if subprocess.run(["umount", str(instance.queue)],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(instance.queue)],
                           capture_output=True)


def fill(path, leave):
    """Fill the file system of path until about leave bytes are free."""
    vfs = os.statvfs(path)
    size = vfs.f_bavail * vfs.f_frsize - leave
    filler = path / "filler"
    with open(filler, "wb") as out:
        chunk = b"\0" * 65536
        while size > 0:
            size -= out.write(chunk[:min(size, len(chunk))])
    return filler


def test_full_disk_gives_452_and_leaves_nothing(small_queue):
    # No size limit: smtpd's MAIL FROM space check (queue_minfree or
    # 1.5 x message_size_limit) must not stop this one before cleanup.
    inst = start(small_queue, message_size_limit="0")
    filler = fill(inst.queue, 16 * 1024)
    conn, queue_id = open_transaction(inst)
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: big\r\n\r\n" + ("w" * 98 + "\r\n") * 1000 + ".\r\n")
    assert conn.reply() == "452 4.3.1 Insufficient system storage"
    inst.wait_for_log(rf"cleanup\[\d+\]: warning: {queue_id}: .*No space "
                      r"left on device")
    inst.wait_for_log(rf"{queue_id}: reject: END-OF-MESSAGE from .*: 452 "
                      r"4\.3\.1 Insufficient system storage;")
    wait_until(lambda: gone(inst, queue_id))
    assert incoming(inst) == {}
    # Room again: the same session can send.
    filler.unlink()
    assert conn.cmd("MAIL FROM:<a@b.test>") == "250 2.1.0 Ok"
    assert conn.cmd("RCPT TO:<joe@mail.example.test>") == "250 2.1.5 Ok"
    assert conn.cmd("DATA").startswith("354")
    conn.send("Subject: small\r\n\r\nok\r\n.\r\n")
    match = re.fullmatch(r"250 2\.0\.0 Ok: queued as (\w+)", conn.reply())
    assert match
    conn.close()
    assert incoming(inst) == {match.group(1): 0o700}
    assert_all_marked_valid(inst)


def test_full_disk_from_the_start(small_queue):
    """No free block at all: smtpd refuses MAIL FROM with Postfix's "452
    4.3.1 Insufficient system storage" (free space below queue_minfree or
    1.5 x message_size_limit), and no queue file is made."""
    inst = start(small_queue, message_size_limit="100000")
    fill(inst.queue, 0)
    conn = RawSMTP(inst.port)
    assert conn.cmd("EHLO client.example").startswith("250")
    assert conn.cmd("MAIL FROM:<a@b.test>") == \
        "452 4.3.1 Insufficient system storage"
    conn.close()
    inst.wait_for_log(r"NOQUEUE: reject: MAIL from \S+: 452 4\.3\.1 "
                      r"Insufficient system storage; from=<a@b\.test> ")
    assert incoming(inst) == {}
