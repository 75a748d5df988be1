"""Nothing acknowledged is lost while daemons die.

2,000 messages are submitted over SMTP by four parallel clients, each to two
local recipients whose aliases deliver into Maildirs, while a killer thread
SIGKILLs qmgr, local and cleanup at random moments. Afterwards every message
that got a 250 must be in both Maildirs; duplicates (a local agent killed
between its Maildir rename and the done mark) are counted and reported, and
a Maildir never holds a partial message. Bounded: at most 2,000 messages and
a few minutes.
"""
import os
import pathlib
import random
import re
import shutil
import signal
import smtplib
import tempfile
import threading
import time

import pytest

from conftest import run
from instance import free_port, queue_file_paths, wait_until

MESSAGES = 2000
CLIENTS = 4


def master_cf(port):
    return f"""\
127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
local unix - n n - - local
error unix - - n - - error
"""


def maildir_messages(path):
    """Sequence numbers found in a Maildir's new/ (and cur/)."""
    seen = {}
    for sub in ("new", "cur"):
        directory = path / sub
        if not directory.exists():
            continue
        for name in os.listdir(directory):
            text = (directory / name).read_text(errors="replace")
            match = re.search(r"^X-Seq: (\d+)$", text, re.M)
            assert match, f"partial or foreign message {name}: {text[:200]}"
            assert text.rstrip().endswith(f"end of {match[1]}"), \
                f"truncated message {name}"
            seq = int(match[1])
            seen[seq] = seen.get(seq, 0) + 1
    return seen


class Killer(threading.Thread):
    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst = inst
        self.stop = threading.Event()
        self.kills = {}

    def run(self):
        rng = random.Random(4242)
        while not self.stop.wait(rng.uniform(0.1, 0.4)):
            name = rng.choice(["qmgr", "local", "cleanup"])
            pids = self.inst.processes(name)
            if not pids:
                continue
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                self.kills[name] = self.kills.get(name, 0) + 1
            except ProcessLookupError:
                pass


def submit_range(port, seqs, acked, failures):
    client = None
    for seq in seqs:
        body = (f"Subject: stress {seq}\r\nX-Seq: {seq}\r\n"
                f"Message-ID: <seq-{seq}@stress.test>\r\n\r\n"
                f"{'x' * 200}\r\nend of {seq}\r\n")
        for _ in range(20):
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
                client.sendmail("sender@example.org",
                                ["stress1@localhost", "stress2@localhost"],
                                body)
                acked.append(seq)
                break
            except smtplib.SMTPResponseException as exc:
                failures.append(f"{seq}: {exc}")
                if exc.smtp_code >= 500:
                    break  # refused for good: the test reports it
                client = _reset(client)
            except smtplib.SMTPRecipientsRefused as exc:
                failures.append(f"{seq}: {exc}")
                if any(code >= 500 for code, _ in exc.recipients.values()):
                    break
                client = _reset(client)
            except (smtplib.SMTPException, OSError) as exc:
                failures.append(f"{seq}: {exc}")
                client = _reset(client)
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass


@pytest.mark.timeout(600)
def test_acknowledged_mail_survives_killed_daemons(instance):
    # The Maildirs live where any user may write: as root, aliases owned
    # by root deliver with default_privs (nobody).
    boxes = pathlib.Path(tempfile.mkdtemp(prefix="postern-stress-"))
    try:
        _run_stress(instance, boxes)
    finally:
        shutil.rmtree(boxes, ignore_errors=True)


def _run_stress(instance, boxes):
    port = free_port()
    os.chmod(boxes, 0o755)
    box1, box2 = boxes / "box1", boxes / "box2"
    for box in (box1, box2):
        box.mkdir()
        os.chmod(box, 0o777)
    (instance.etc / "aliases").write_text(
        f"stress1: {box1}/\nstress2: {box2}/\n")
    instance.write_main(
        mydestination="localhost", alias_maps=f"hash:{instance.etc}/aliases",
        local_recipient_maps="", mynetworks="127.0.0.0/8",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s", transport_retry_time="1s",
        smtpd_forbid_unauth_pipelining="no")
    instance.write_master(master_cf(port))
    run("postalias", "-c", instance.etc, f"hash:{instance.etc}/aliases",
        check=True)
    instance.start()
    assert wait_until(lambda: _can_connect(port)), instance.log()

    killer = Killer(instance)
    killer.start()
    acked, failures = [], []
    threads = [threading.Thread(target=submit_range,
                                args=(port, range(i, MESSAGES, CLIENTS),
                                      acked, failures))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    killer.stop.set()
    killer.join()

    # A cleanup killed before it named its file leaves a "tmp.*" file,
    # which is never delivered and which postsuper -p removes.
    def queue_empty():
        return not any(os.path.basename(p)
                       for q in ("incoming", "active", "deferred")
                       for p in queue_file_paths(instance.queue / q)
                       if not os.path.basename(p).startswith("tmp."))
    assert wait_until(queue_empty, timeout=240), instance.log()[-3000:]

    seen1, seen2 = maildir_messages(box1), maildir_messages(box2)
    missing = [s for s in acked if s not in seen1 or s not in seen2]
    dups = sum(n - 1 for seen in (seen1, seen2) for n in seen.values())
    print(f"acked {len(acked)} of {MESSAGES}, kills {killer.kills}, "
          f"duplicates {dups}, submission retries {len(failures)}")
    assert len(acked) == MESSAGES, failures[:10]
    assert not missing, lost_report(instance, missing, seen1, seen2)
    assert sum(killer.kills.values()) > 0


def lost_report(instance, missing, seen1, seen2):
    """Which mailbox lacks each lost message, and what the log says."""
    log = instance.log()
    lines = [f"lost {len(missing)}: {missing[:20]}"]
    for seq in missing[:3]:
        ids = re.findall(rf"(\w+): message-id=<seq-{seq}@stress.test>", log)
        lines.append(f"seq {seq}: box1 {seq in seen1}, box2 {seq in seen2},"
                     f" queue IDs {ids}")
        for queue_id in ids:
            lines += [line for line in log.splitlines() if queue_id in line]
    return "\n".join(lines)


def _reset(client):
    try:
        if client is not None:
            client.close()
    except OSError:
        pass
    time.sleep(0.05)
    return None


def _can_connect(port):
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
        return True
    except OSError:
        return False
