"""The administrator's queue tools: showq, postqueue (-p, -j, -f, -i, -s),
mailq / sendmail -bp, and postsuper (-d, -h, -H, -r, -p, -s).

Queue files are made by submitting to cleanup with no qmgr running
(master.cf runs only cleanup and showq, and pickup where a test needs
it), then moved between queues by hand. Expected output was recorded
from Debian's Postfix 3.7 (postqueue -p/-j against its showq, with queue
files from its cleanup moved into active/, hold/ and deferred/ and a
defer log written by hand). Postfix's short-ID listing, for example:

    -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
    ED0D1A7C27D*     271 Sun Nov 22 19:35:18  s1@example.test
                                             r1@example.org

    35A22A7C139 10100267 Sun Nov 22 19:37:06  huge@example.test
                                             h1@example.org

    33C58A7C136     272 Sun Nov 22 19:37:06  three@example.test
                                                                     (same reason)
                                             t1@example.org
    (host mx.example.org[192.0.2.7] said: 450 4.2.0 word00 ... word39)
                                             t3@example.org
                                                                     (same reason)
                                             t2@example.org
                                                              (reason unavailable)
                                             t4@example.org

    EF0E7A7C27E!     271 Sun Nov 22 19:35:18  s2@example.test
                                             r2@example.org

    -- 9873 Kbytes in 14 Requests.

i.e. "%-11s %7d %s  %s" with the status character appended to the ID,
recipients indented 41 columns, reasons right-aligned in 78 columns and
shown when they change from the recipient before; with
enable_long_queue_ids the header is
"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------",
"%-17s %8d %s %s" and 47 columns ("4jXbdg6Fn5z1bcjX* 10100267 ..."). Queues are listed in the order maildrop,
active, incoming, deferred, hold; recipients with a defer log entry first
(log order), then the others. JSON (-j), one object per line:

    {"queue_name": "deferred", "queue_id": "EFA17A7C289", "arrival_time":
    1795376118, "message_size": 271, "forced_expire": false, "sender":
    "s4@example.test", "recipients": [{"address": "r4@example.org",
    "delay_reason": "connect to ...: Connection refused"}]}

with MAILER-DAEMON for the null sender in both forms, and
"sender": "\\"we\\\\\\"ird man\\"@example.test" for "we\\"ird man"@example.test.
postqueue errors (exit 69): "Cannot flush queue ID - invalid name: \\"../x\\"",
"Cannot flush mail queue - invalid destination: \\"exa mple\\"",
"warning: unable to look up public/qmgr: No such file or directory" then
"Cannot flush mail queue - mail system is down", and the usage line.
postsuper: "postsuper: ID: removed", "postsuper: Deleted: 1 message",
"Placed on hold: 10 messages", "Released from hold: 0 messages".
"""
import json
import os
import pwd
import re
import stat
import threading
import time

import pytest

from conftest import SBIN, run
from instance import connect_unix, queue_file_paths, wait_until
from postern_proto import read_records, submit

MASTER_CF = ("cleanup unix n - n - 0 cleanup\n"
             "showq unix n - n - - showq\n")
PICKUP_CF = "pickup unix n - n 60 1 pickup\n"
ENV = {"TZ": "UTC"}
ARRIVAL = 1700000000  # Tue Nov 14 22:13:20 2023 UTC
WHEN = "Tue Nov 14 22:13:20"
SHORT_HEADER = ("-Queue ID-  --Size-- ----Arrival Time---- "
                "-Sender/Recipient-------")
LONG_HEADER = ("----Queue ID----- --Size-- ---Arrival Time---- "
               "--Sender/Recipient------")
TEXT = "Subject: test\n\nbody\n"


def start(inst, master_cf=MASTER_CF, **params):
    inst.write_main(**params)
    inst.write_master(master_cf)
    inst.start()
    wait_until(lambda: (inst.queue / "public" / "showq").exists()
               and (inst.queue / "public" / "cleanup").exists())
    return inst


@pytest.fixture
def qinst(instance):
    return start(instance)


def postqueue(inst, *args, env=None):
    return run("postqueue", "-c", inst.etc, *args, env=dict(ENV, **(env or {})))


def postsuper(inst, *args, input=None):
    return run("postsuper", "-c", inst.etc, *args, input=input, env=ENV)


def queue_path(inst, queue, qid):
    """Where a file lives with the default hash_queue_names/depth."""
    if queue in ("deferred", "defer"):
        return inst.queue / queue / qid[0] / qid
    return inst.queue / queue / qid


def find(inst, qid):
    hits = [p for p in inst.queue.rglob(qid) if p.is_file()]
    return [str(p.relative_to(inst.queue)) for p in hits]


def enqueue(inst, sender="s@example.test", rcpts=("r@example.org",),
            text=TEXT, arrival=ARRIVAL):
    qid, reply = submit(inst.queue / "public" / "cleanup", sender,
                        list(rcpts), text, arrival=arrival)
    assert reply["status"] == 0, reply
    return qid


def move(inst, qid, to_queue, from_queue="incoming"):
    src = queue_path(inst, from_queue, qid)
    dst = queue_path(inst, to_queue, qid)
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.rename(src, dst)
    return dst


def content_size(path):
    for _, rec_type, data in read_records(path):
        if rec_type == "C":
            return int(data.split()[0])
    raise AssertionError("no size record")


def mark_done(path, address):
    for offset, rec_type, data in read_records(path):
        if rec_type == "R" and data.decode() == address:
            with open(path, "r+b") as f:
                f.seek(offset)
                f.write(b"D")
            return
    raise AssertionError(f"no recipient {address}")


def write_defer_log(inst, qid, entries):
    """entries: (recipient, reason) pairs, in the msg_log.h format."""
    path = queue_path(inst, "defer", qid)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"recipient={r}\nstatus=4.4.1\naction=delayed\n"
                   f"reason={why}\ntime={ARRIVAL}\n\n" for r, why in entries)
    path.write_text(text)


def line(qid, size, sender, status=""):
    return f"{qid + status:<11} {size:>7} {WHEN}  {sender}"


def rcpt_line(address):
    return " " * 41 + address


def reason_line(reason):
    return f"({reason})".rjust(78)


# --- listing -----------------------------------------------------------

def test_empty_queue(qinst):
    proc = postqueue(qinst, "-p")
    assert (proc.returncode, proc.stdout, proc.stderr) == \
        (0, "Mail queue is empty\n", "")
    proc = postqueue(qinst, "-j")
    assert (proc.returncode, proc.stdout) == (0, "")


def test_listing_in_postfix_format(qinst):
    inst = qinst
    active = enqueue(inst, "s1@example.test", ["r1@example.org"])
    incoming = enqueue(inst, "", ["r2@example.org"])
    deferred = enqueue(inst, "s3@example.test", ["r3@example.org"])
    hold = enqueue(inst, "s4@example.test", ["r4@example.org"])
    done = enqueue(inst, "s5@example.test",
                   ["d1@example.org", "d2@example.org"])
    mark_done(queue_path(inst, "incoming", done), "d1@example.org")
    move(inst, active, "active")
    move(inst, deferred, "deferred")
    move(inst, hold, "hold")
    write_defer_log(inst, deferred, [("r3@example.org",
                                      "connect to example.org[192.0.2.1]:25:"
                                      " Connection refused")])
    sizes = {qid: content_size(p) for qid in
             (active, incoming, deferred, hold, done)
             for p in [inst.queue / f for f in find(inst, qid)
                       if not f.startswith("defer/")]}
    proc = postqueue(inst, "-p")
    assert proc.returncode == 0, proc.stderr
    incoming_ids = [l.split()[0] for l in proc.stdout.splitlines()
                    if l[:1].isalnum() and l.split()[0] in (incoming, done)]
    blocks = {
        active: [line(active, sizes[active], "s1@example.test", "*"),
                 rcpt_line("r1@example.org")],
        incoming: [line(incoming, sizes[incoming], "MAILER-DAEMON"),
                   rcpt_line("r2@example.org")],
        done: [line(done, sizes[done], "s5@example.test"),
               rcpt_line("d2@example.org")],
        deferred: [line(deferred, sizes[deferred], "s3@example.test"),
                   " " * 20 + "(connect to example.org[192.0.2.1]:25: "
                   "Connection refused)",
                   rcpt_line("r3@example.org")],
        hold: [line(hold, sizes[hold], "s4@example.test", "!"),
               rcpt_line("r4@example.org")],
    }
    expected = [SHORT_HEADER]
    for qid in [active, *incoming_ids, deferred, hold]:
        expected += blocks[qid] + [""]
    total = sum(sizes.values())
    expected.append(f"-- {total // 1024} Kbytes in 5 Requests.")
    assert proc.stdout == "\n".join(expected) + "\n"

    # mailq and sendmail -bp print the same.
    mailq = SBIN / "mailq"
    if not mailq.exists():
        os.symlink("sendmail", mailq)
    env = dict(ENV, MAIL_CONFIG=str(inst.etc))
    assert run("mailq", env=env).stdout == proc.stdout
    assert run("sendmail", "-bp", env=env).stdout == proc.stdout


def test_json_listing(qinst):
    inst = qinst
    weird = enqueue(inst, '"we\\"ird man"@example.test',
                    ["back\\slash@example.org", "j\u00f6rg@example.org"])
    deferred = enqueue(inst, "s@example.test",
                       ["a@example.org", "b@example.org"])
    move(inst, deferred, "deferred")
    write_defer_log(inst, deferred, [("b@example.org", 'said "no"\tnow')])
    proc = postqueue(inst, "-j")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {
        "queue_name": "incoming", "queue_id": weird,
        "arrival_time": ARRIVAL,
        "message_size": content_size(queue_path(inst, "incoming", weird)),
        "forced_expire": False, "sender": '"we\\"ird man"@example.test',
        "recipients": [{"address": "back\\slash@example.org"},
                       {"address": "j\u00f6rg@example.org"}]}
    assert '"sender": "\\"we\\\\\\"ird man\\"@example.test"' in lines[0]
    assert lines[0].startswith('{"queue_name": "incoming", "queue_id": ')
    assert "j\u00f6rg" in lines[0]  # UTF-8 as it is, as Postfix prints it
    second = json.loads(lines[1])
    assert second["queue_name"] == "deferred"
    assert second["recipients"] == [
        {"address": "b@example.org", "delay_reason": 'said "no"\tnow'},
        {"address": "a@example.org"}]
    assert '"delay_reason": "said \\"no\\"\\tnow"' in lines[1]


def test_reason_grouping_and_order(qinst):
    inst = qinst
    qid = enqueue(inst, "three@example.test",
                  [f"t{i}@example.org" for i in range(1, 5)])
    move(inst, qid, "deferred")
    long_reason = ("host mx.example.org[192.0.2.7] said: 450 4.2.0 "
                   + " ".join(f"word{i:02d}" for i in range(40)))
    write_defer_log(inst, qid, [("t1@example.org", "same reason"),
                                ("t3@example.org", long_reason),
                                ("t2@example.org", "same reason")])
    proc = postqueue(inst, "-p")
    body = proc.stdout.splitlines()[2:-2]
    assert body == [reason_line("same reason"), rcpt_line("t1@example.org"),
                    f"({long_reason})", rcpt_line("t3@example.org"),
                    reason_line("same reason"), rcpt_line("t2@example.org"),
                    reason_line("reason unavailable"),
                    rcpt_line("t4@example.org")]
    assert len(reason_line("same reason")) == 78


def test_long_queue_ids(instance):
    inst = start(instance, enable_long_queue_ids="yes")
    qid = enqueue(inst, "s@example.test", ["r@example.org"])
    move(inst, qid, "hold")
    size = content_size(queue_path(inst, "hold", qid))
    proc = postqueue(inst, "-p")
    assert proc.stdout.splitlines()[:3] == [
        LONG_HEADER,
        f"{qid + '!':<17} {size:>8} {WHEN} s@example.test",
        " " * 47 + "r@example.org"]


def test_many_recipients_in_chunks(qinst):
    rcpts = [f"user{i:04d}@example.org" for i in range(700)]
    qid = enqueue(qinst, "s@example.test", rcpts)
    proc = postqueue(qinst, "-j")
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(proc.stdout)
    assert entry["queue_id"] == qid
    assert [r["address"] for r in entry["recipients"]] == rcpts
    proc = postqueue(qinst, "-p")
    assert proc.stdout.count("@example.org\n") == 700


def test_corrupt_and_unfinished_files_are_skipped(qinst):
    inst = qinst
    good = enqueue(inst)
    bad = enqueue(inst)
    path = move(inst, bad, "deferred")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    os.chmod(path, 0o700)
    unfinished = inst.queue / "incoming" / "ABCDE12345"
    unfinished.write_bytes(data[:20])
    os.chmod(unfinished, 0o600)
    owner = pwd.getpwnam(inst.mail_owner)
    os.chown(unfinished, owner.pw_uid, owner.pw_gid)
    proc = postqueue(inst, "-j")
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(l)["queue_id"] for l in proc.stdout.splitlines()] \
        == [good]
    inst.wait_for_log(rf"postfix/showq\[\d+\]: warning: deferred: {bad}: "
                      r".*; skipping this file")
    assert "ABCDE12345" not in inst.log()


def test_maildrop_is_listed(qinst):
    inst = qinst
    proc = run("sendmail", "-f", "md@example.test", "md@example.org",
               input=TEXT, env=dict(ENV, MAIL_CONFIG=str(inst.etc)))
    assert proc.returncode == 0, proc.stderr
    files = list((inst.queue / "maildrop").iterdir())
    assert len(files) == 1
    entry = json.loads(postqueue(inst, "-j").stdout)
    assert entry["queue_name"] == "maildrop"
    assert entry["queue_id"] == files[0].name
    assert entry["message_size"] == files[0].stat().st_size
    assert entry["recipients"] == [{"address": "md@example.org"}]


def test_direct_access_when_showq_is_down(qinst):
    inst = qinst
    qid = enqueue(inst)
    inst.stop()
    wait_until(lambda: not (inst.queue / "public" / "showq").exists()
               or not inst.processes())
    for name in ("public/showq", "private/showq"):
        try:
            os.unlink(inst.queue / name)
        except FileNotFoundError:
            pass
    proc = postqueue(inst, "-j")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["queue_id"] == qid
    assert proc.stderr == (
        "postqueue: warning: Mail system is down -- accessing queue "
        "directly (Connect to the Postfix showq service: No such file or "
        "directory)\n")


# --- flushing ----------------------------------------------------------

class QmgrFifo:
    """Stands in for qmgr's public/qmgr FIFO and collects what arrives."""

    def __init__(self, inst):
        self.path = inst.queue / "public" / "qmgr"
        os.mkfifo(self.path)
        os.chmod(self.path, 0o666)  # cleanup may run as another user
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)

    def read(self):
        def some():
            try:
                return os.read(self.fd, 100)
            except BlockingIOError:
                return b""
        return wait_until(some)

    def drain(self, count):
        """Take the count "I" requests cleanup sends for new mail."""
        got = b""
        while len(got) < count:
            got += self.read()
        assert got == b"I" * count

    def close(self):
        os.close(self.fd)


def test_flush_sends_fa(qinst):
    fifo = QmgrFifo(qinst)
    try:
        proc = postqueue(qinst, "-f")
        assert (proc.returncode, proc.stderr) == (0, "")
        assert fifo.read() == b"FA"
    finally:
        fifo.close()


def test_flush_without_qmgr(qinst):
    proc = postqueue(qinst, "-f")
    assert proc.returncode == 69
    assert proc.stderr == (
        "postqueue: warning: unable to look up public/qmgr: No such file "
        "or directory\n"
        "postqueue: fatal: Cannot flush mail queue - mail system is down\n")


def test_flush_id_makes_the_file_due(qinst):
    inst = qinst
    fifo = QmgrFifo(inst)
    qid = enqueue(inst)
    path = move(inst, qid, "deferred")
    later = time.time() + 3600
    os.utime(path, (later, later))
    try:
        fifo.drain(1)
        proc = postqueue(inst, "-i", qid)
        assert (proc.returncode, proc.stderr) == (0, "")
        assert fifo.read() == b"A"
    finally:
        fifo.close()
    assert abs(path.stat().st_mtime - time.time()) < 30


def test_flush_site_touches_only_that_site(qinst):
    inst = qinst
    fifo = QmgrFifo(inst)
    mine = enqueue(inst, rcpts=["a@other.test", "b@Example.ORG"])
    other = enqueue(inst, rcpts=["c@other.test"])
    later = time.time() + 3600
    paths = {}
    for qid in (mine, other):
        paths[qid] = move(inst, qid, "deferred")
        os.utime(paths[qid], (later, later))
    try:
        fifo.drain(2)
        proc = postqueue(inst, "-s", "example.org")
        assert (proc.returncode, proc.stderr) == (0, "")
        assert fifo.read() == b"A"
    finally:
        fifo.close()
    assert paths[mine].stat().st_mtime < later - 1000
    assert paths[other].stat().st_mtime == pytest.approx(later)


@pytest.mark.parametrize("args,message", [
    (["-i", "../x"],
     'postqueue: fatal: Cannot flush queue ID - invalid name: "../x"\n'),
    (["-i", "A" * 120],
     'postqueue: fatal: Cannot flush queue ID - invalid name: "'
     + "A" * 100 + '..."\n'),
    (["-s", "exa mple"],
     "postqueue: fatal: Cannot flush mail queue - invalid destination: "
     '"exa mple"\n'),
    ([], "postqueue: fatal: usage: postqueue -f | postqueue -i queueid | "
     "postqueue -j | postqueue -p | postqueue -s site\n"),
    (["-p", "-f"], "postqueue: fatal: usage: postqueue -f | postqueue -i "
     "queueid | postqueue -j | postqueue -p | postqueue -s site\n"),
    (["-p", "extra"], "postqueue: fatal: usage: postqueue -f | postqueue -i "
     "queueid | postqueue -j | postqueue -p | postqueue -s site\n"),
    (["-x"], "postqueue: invalid option -- 'x'\npostqueue: fatal: usage: "
     "postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | "
     "postqueue -s site\n"),
])
def test_postqueue_errors(qinst, args, message):
    proc = postqueue(qinst, *args)
    assert (proc.returncode, proc.stderr) == (69, message)


# --- postsuper ---------------------------------------------------------

def test_delete_one_with_its_logs(qinst):
    inst = qinst
    qid = enqueue(inst)
    keep = enqueue(inst)
    move(inst, qid, "deferred")
    write_defer_log(inst, qid, [("r@example.org", "later")])
    proc = postsuper(inst, "-d", qid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"postsuper: {qid}: removed\n"
                           "postsuper: Deleted: 1 message\n")
    assert find(inst, qid) == []
    assert find(inst, keep) == [f"incoming/{keep}"]
    inst.wait_for_log(rf"postfix/postsuper\[\d+\]: {qid}: removed")
    proc = postsuper(inst, "-d", qid)
    assert proc.stderr == "postsuper: Deleted: 0 messages\n"


def test_delete_all_in_one_queue_and_from_stdin(qinst):
    inst = qinst
    ids = [enqueue(inst) for _ in range(4)]
    for qid in ids[:2]:
        move(inst, qid, "deferred")
    proc = postsuper(inst, "-d", "ALL", "deferred")
    assert proc.stderr.endswith("postsuper: Deleted: 2 messages\n")
    assert all(find(inst, qid) == [] for qid in ids[:2])
    proc = postsuper(inst, "-d", "-",
                     input=f"{ids[2]}\n  {ids[3]}*junk\nnot-an-id\n")
    # As in Postfix, a line is taken as it is: no status characters.
    assert proc.stderr == (f"postsuper: {ids[2]}: removed\n"
                           "postsuper: warning: invalid mail queue id: "
                           f"{ids[3]}*junk\n"
                           "postsuper: warning: invalid mail queue id: "
                           "not-an-id\n"
                           "postsuper: Deleted: 1 message\n")


def test_hold_and_release(qinst):
    inst = qinst
    ids = [enqueue(inst) for _ in range(3)]
    move(inst, ids[0], "deferred")
    move(inst, ids[1], "active")
    proc = postsuper(inst, "-h", "ALL")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.endswith("postsuper: Placed on hold: 3 messages\n")
    assert sorted(f"hold/{q}" for q in ids) == \
        sorted(f for q in ids for f in find(inst, q))
    listing = postqueue(inst, "-p").stdout
    assert all(f"{q}!" in listing for q in ids)
    old = time.time() - 7200
    os.utime(inst.queue / "hold" / ids[2], (old, old))
    proc = postsuper(inst, "-H", ids[2])
    assert proc.stderr == (f"postsuper: {ids[2]}: released from hold\n"
                           "postsuper: Released from hold: 1 message\n")
    released = queue_path(inst, "deferred", ids[2])
    assert released.exists()
    assert abs(released.stat().st_mtime - time.time()) < 30
    proc = postsuper(inst, "-H", "ALL")
    assert proc.stderr.endswith("postsuper: Released from hold: 2 messages\n")


def test_requeue_keeps_done_recipients_done(instance):
    inst = start(instance)
    qid = enqueue(inst, "s@example.test", ["d1@example.org",
                                            "d2@example.org"])
    path = move(inst, qid, "deferred")
    mark_done(path, "d1@example.org")
    write_defer_log(inst, qid, [("d2@example.org", "later")])
    proc = postsuper(inst, "-r", "ALL")
    assert proc.stderr == (f"postsuper: {qid}: requeued\n"
                           "postsuper: Requeued: 1 message\n")
    assert find(inst, qid) == [f"maildrop/{qid}"]
    mode = (inst.queue / "maildrop" / qid).stat().st_mode
    assert mode & stat.S_IXUSR
    # pickup takes it to cleanup, which gives it a new queue file.
    inst.stop()
    start(inst, MASTER_CF + PICKUP_CF)
    wait_until(lambda: (inst.queue / "public" / "pickup").exists())
    with connect_unix(inst.queue / "public" / "pickup") as conn:
        conn.sendall(b"W")  # what master's wakeup timer would send
    wait_until(lambda: not (inst.queue / "maildrop" / qid).exists())
    new = wait_until(lambda: queue_file_paths(inst.queue / "incoming"))
    rcpts = [(t, d.decode()) for _, t, d in read_records(new[0])
             if t in "RD"]
    assert rcpts == [("R", "d2@example.org")]
    assert postqueue(inst, "-j").stdout.count('"address"') == 1


def test_purge_temporary_files(qinst):
    inst = qinst
    old = time.time() - 2 * 86400
    stale_tmp = inst.queue / "incoming" / "tmp.123.abc"
    young_tmp = inst.queue / "incoming" / "tmp.456.def"
    stale_file = inst.queue / "incoming" / "ABCDE12345"
    complete = inst.queue / "incoming" / enqueue(inst)
    for path in (stale_tmp, young_tmp, stale_file):
        path.write_bytes(b"x")
        os.chmod(path, 0o600)
    for path in (stale_tmp, stale_file, complete):
        os.utime(path, (old, old))
    proc = postsuper(inst, "-p")
    assert proc.returncode == 0, proc.stderr
    assert not stale_tmp.exists() and not stale_file.exists()
    assert young_tmp.exists() and complete.exists()


def test_spare_files_are_not_mail(qinst):
    """incoming/spare.N (a delivered file kept for reuse, its completion
    mark taken away) is no message: the tools neither list, move, nor
    remove it, even when old."""
    inst = qinst
    spare = inst.queue / "incoming" / "spare.7"
    qid = enqueue(inst)
    spare.write_bytes((inst.queue / "incoming" / qid).read_bytes())
    os.chmod(spare, 0o600)
    old = time.time() - 2 * 86400
    os.utime(spare, (old, old))
    for args in (["-s"], ["-p"], ["-d", "ALL"]):
        proc = postsuper(inst, *args)
        assert proc.returncode == 0, proc.stderr
        assert "spare" not in proc.stderr, proc.stderr
    assert spare.exists()
    assert postqueue(inst, "-p").stdout == "Mail queue is empty\n"
    assert postqueue(inst, "-j").stdout == ""


def test_structure_fix(qinst):
    inst = qinst
    qid = enqueue(inst)
    misplaced = inst.queue / "deferred" / qid
    os.rename(inst.queue / "incoming" / qid, misplaced)
    wrong_dir = inst.queue / "hold" / "X"
    wrong_dir.mkdir()
    other = enqueue(inst)
    usec = other[:5]
    # A short ID whose inode part is not the file's inode number.
    bogus = usec + "FFFFFFF"
    os.rename(inst.queue / "incoming" / other,
              inst.queue / "incoming" / bogus)
    proc = postsuper(inst, "-s")
    assert proc.returncode == 0, proc.stderr
    assert find(inst, qid) == [f"deferred/{qid[0]}/{qid}"]
    assert not wrong_dir.exists()
    ino = os.stat(inst.queue / "incoming" / other).st_ino
    assert other == usec + f"{ino:X}"
    assert not (inst.queue / "incoming" / bogus).exists()
    assert "postsuper: Renamed to match inode number: 1 message\n" \
        in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["-d", "ALL", "nosuchqueue"],
     "postsuper: fatal: invalid directory name: nosuchqueue\n"),
    (["-x"], "postsuper: invalid option -- 'x'\n"),
])
def test_postsuper_errors(qinst, args, message):
    proc = postsuper(qinst, *args)
    assert proc.returncode == 1
    assert proc.stderr.startswith(message)
