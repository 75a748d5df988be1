"""The queue manager end to end: mail submitted through cleanup is moved to
active/, handed to delivery agents (discard, error), and its fate decided:
removed when delivered, bounced through the bounce service, deferred with
back-off and retried, expired, or saved to corrupt/.

Log lines are Postfix's shape (pflogsumm parses them), for example:
    ID: from=<a@b>, size=345, nrcpt=1 (queue active)
    ID: to=<x@y>, relay=none, delay=0.02, delays=0.01/0/0/0, dsn=2.0.0,
        status=sent (discard.test)
    ID: removed
"""
import os
import pwd
import re
import time

import pytest

from instance import queue_file_paths, wait_until
from postern_proto import submit

MASTER_CF = """\
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
discard unix - - n - - discard
error unix - - n - - error
"""

TRANSPORT = """\
discard.test discard:
error.test error:5.1.1 no such user here
down.test down:
"""

DELIVERY_LINE = re.compile(
    r"(?P<id>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>, (?:orig_to=<[^>]*>, )?"
    r"relay=(?P<relay>[^,]+), delay=[0-9.]+, "
    r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=(?P<dsn>\d\.\d+\.\d+), "
    r"status=(?P<status>\w+) \((?P<reason>.*)\)$", re.M)


@pytest.fixture
def mta(instance):
    (instance.etc / "transport").write_text(TRANSPORT)
    instance.write_main(
        mydestination="",
        transport_maps=f"texthash:{instance.etc}/transport",
        default_transport="discard",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s", transport_retry_time="1s")
    instance.write_master(MASTER_CF)
    instance.start()
    wait_until(lambda: (instance.queue / "public" / "cleanup").exists())
    return instance


def send(inst, sender, recipients, text="Subject: test\n\nbody\n"):
    rcpts = [(r, r, 0, None) for r in recipients]
    queue_id, reply = submit(inst.queue / "public" / "cleanup", sender,
                             rcpts, text)
    assert reply["status"] == 0, (reply, inst.log())
    return queue_id


def queue_ids(inst, queue):
    return [os.path.basename(p) for p in queue_file_paths(inst.queue / queue)]


def deliveries(inst, queue_id=None):
    return [m for m in DELIVERY_LINE.finditer(inst.log())
            if queue_id is None or m["id"] == queue_id]


def wait_removed(inst, queue_id, timeout=20):
    assert inst.wait_for_log(rf"{queue_id}: removed", timeout), inst.log()


def test_delivers_and_removes(mta):
    ids = [send(mta, "alice@example.org", [f"u{i}@discard.test",
                                            f"v{i}@discard.test"])
           for i in range(3)]
    for queue_id in ids:
        wait_removed(mta, queue_id)
        log = mta.log()
        assert re.search(rf"{queue_id}: from=<alice@example.org>, "
                         rf"size=\d+, nrcpt=2 \(queue active\)", log), log
        lines = deliveries(mta, queue_id)
        assert sorted(m["to"] for m in lines) == sorted(
            [f"u{ids.index(queue_id)}@discard.test",
             f"v{ids.index(queue_id)}@discard.test"])
        assert all(m["status"] == "sent" and m["dsn"] == "2.0.0"
                   for m in lines), log
    assert not any(queue_ids(mta, q) for q in
                   ("incoming", "active", "deferred")), mta.log()


def test_failed_recipient_bounces_to_sender(mta):
    queue_id = send(mta, "sender@discard.test",
                    ["nobody@error.test", "ok@discard.test"])
    wait_removed(mta, queue_id)
    log = mta.log()
    by_rcpt = {m["to"]: m for m in deliveries(mta, queue_id)}
    assert by_rcpt["nobody@error.test"]["status"] == "bounced", log
    assert by_rcpt["nobody@error.test"]["dsn"] == "5.1.1", log
    assert by_rcpt["ok@discard.test"]["status"] == "sent", log
    notice = re.search(rf"{queue_id}: sender non-delivery notification: "
                       r"([0-9A-Za-z]+)", log)
    assert notice, log
    # The notice goes to the sender (through discard), and is removed.
    wait_removed(mta, notice[1])
    assert [m["to"] for m in deliveries(mta, notice[1])] == [
        "sender@discard.test"], mta.log()
    assert re.search(rf"{notice[1]}: from=<>, size=\d+, nrcpt=1",
                     mta.log())


def test_unavailable_transport_defers_and_retries(mta):
    queue_id = send(mta, "alice@example.org", ["bob@down.test"])
    assert wait_until(lambda: queue_id in queue_ids(mta, "deferred")), \
        mta.log()
    line = deliveries(mta, queue_id)[0]
    assert line["status"] == "deferred" and line["dsn"].startswith("4."), \
        mta.log()
    # The retry time is in the file's mtime, in the future.
    path = next((mta.queue / "deferred").rglob(queue_id))
    assert path.stat().st_mtime > time.time() - 1
    # Give the transport an agent; the next retry delivers.
    mta.write_master(MASTER_CF + "down unix - - n - - discard\n")
    assert mta.postfix("reload").returncode == 0
    wait_removed(mta, queue_id, timeout=30)
    assert deliveries(mta, queue_id)[-1]["status"] == "sent", mta.log()


def test_expired_message_is_returned(mta):
    mta.write_main(maximal_queue_lifetime="0")
    assert mta.postfix("reload").returncode == 0
    time.sleep(0.5)
    queue_id = send(mta, "sender@discard.test", ["bob@down.test"])
    wait_removed(mta, queue_id, timeout=30)
    log = mta.log()
    assert re.search(rf"{queue_id}: from=<sender@discard.test>, "
                     r"status=expired, returned to sender", log), log
    assert re.search(rf"{queue_id}: sender non-delivery notification", log)


def test_recovers_files_left_in_active(instance):
    (instance.etc / "transport").write_text(TRANSPORT)
    instance.write_main(transport_maps=f"texthash:{instance.etc}/transport",
                        mydestination="", default_transport="discard")
    instance.write_master("cleanup unix n - n - 0 cleanup\n")
    instance.start()
    wait_until(lambda: (instance.queue / "public" / "cleanup").exists())
    queue_id = send(instance, "a@example.org", ["x@discard.test"])
    instance.stop()
    # As if qmgr had died after taking the file into active/.
    os.rename(instance.queue / "incoming" / queue_id,
              instance.queue / "active" / queue_id)
    instance.write_master(MASTER_CF)
    instance.start()
    wait_removed(instance, queue_id)
    assert deliveries(instance, queue_id)[0]["status"] == "sent"


def test_corrupt_file_is_saved_and_queue_moves_on(mta):
    # Made complete (mode 0700) before it appears, as a writer would.
    staging = mta.queue / "ABCDEF12345"
    staging.write_bytes(b"C\x05junk!" + b"\x00" * 40)
    os.chmod(staging, 0o700)
    owner = pwd.getpwnam(mta.mail_owner)
    os.chown(staging, owner.pw_uid, owner.pw_gid)
    os.rename(staging, mta.queue / "incoming" / "ABCDEF12345")
    good = send(mta, "a@example.org", ["x@discard.test"])
    wait_removed(mta, good)
    assert wait_until(lambda: (mta.queue / "corrupt" /
                               "ABCDEF12345").exists()), mta.log()
    assert re.search(r'warning: saving corrupt file "ABCDEF12345" from '
                     r'queue "active" to queue "corrupt"', mta.log())


def test_done_recipients_are_not_delivered_again(mta):
    """A recipient marked done in the file is skipped on the next pass."""
    queue_id = send(mta, "a@example.org", ["one@discard.test",
                                           "two@down.test"])
    assert wait_until(lambda: queue_id in queue_ids(mta, "deferred")), \
        mta.log()
    mta.write_master(MASTER_CF + "down unix - - n - - discard\n")
    assert mta.postfix("reload").returncode == 0
    wait_removed(mta, queue_id, timeout=30)
    sent = [m["to"] for m in deliveries(mta, queue_id)
            if m["status"] == "sent"]
    assert sorted(sent) == ["one@discard.test", "two@down.test"], mta.log()


def test_abandoned_incomplete_file_is_removed(mta):
    """cleanup died while writing: the unlocked, unmarked file goes."""
    dead = mta.queue / "incoming" / "ABCDEF54321"
    staging = mta.queue / "ABCDEF54321"  # appears whole, as a writer's
    staging.write_bytes(b"C\x05junk!")
    owner = pwd.getpwnam(mta.mail_owner)
    os.chown(staging, owner.pw_uid, owner.pw_gid)
    os.rename(staging, dead)
    send(mta, "a@example.org", ["x@discard.test"])  # wakes qmgr up
    assert wait_until(lambda: not dead.exists()), mta.log()
    assert re.search(r"warning: ABCDEF54321: removed incomplete queue file "
                     r"left by a writer that died", mta.log())


def test_file_still_locked_by_its_writer_is_taken_soon(mta):
    """cleanup marks a file complete and then fsyncs it, holding its lock:
    a scan in between finds it complete but locked. qmgr tries such a
    file again within milliseconds of the lock going, not at its
    once-a-second rescan of active/ (which left ~3% of messages waiting
    a second under load)."""
    import fcntl

    mta.write_master(MASTER_CF.replace("qmgr unix n - n 300 1 qmgr\n", ""))
    assert mta.postfix("reload").returncode == 0
    assert wait_until(lambda: not mta.processes("qmgr"))
    queue_id = send(mta, "a@example.org", ["x@discard.test"])
    with open(mta.queue / "incoming" / queue_id, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        mta.write_master(MASTER_CF)
        assert mta.postfix("reload").returncode == 0
        assert wait_until(lambda: queue_ids(mta, "active") == [queue_id])
        time.sleep(0.1)
        released = time.monotonic()
    wait_removed(mta, queue_id)
    assert time.monotonic() - released < 0.6, mta.log()


def test_header_check_redirect_and_filter(mta):
    """REDIRECT sends the message to another address instead; FILTER
    sends every recipient through the named transport."""
    (mta.etc / "header_checks").write_text(
        "/^Subject: redirect-me/ REDIRECT other@discard.test\n"
        "/^Subject: filter-me/ FILTER error:5.7.1 filtered away\n")
    mta.write_main(header_checks=f"regexp:{mta.etc}/header_checks")
    assert mta.postfix("reload").returncode == 0
    time.sleep(0.5)
    redirected = send(mta, "a@discard.test", ["x@discard.test"],
                      "Subject: redirect-me\n\nbody\n")
    filtered = send(mta, "a@discard.test", ["y@discard.test"],
                    "Subject: filter-me\n\nbody\n")
    wait_removed(mta, redirected)
    wait_removed(mta, filtered)
    [line] = deliveries(mta, redirected)
    assert (line["to"], line["status"]) == ("other@discard.test", "sent")
    assert "orig_to=<x@discard.test>" in line[0]
    [line] = deliveries(mta, filtered)
    assert (line["to"], line["status"], line["dsn"]) == (
        "y@discard.test", "bounced", "5.7.1")
    assert line["reason"] == "filtered away"


def test_bad_concurrency_feedback_is_a_configuration_error(mta):
    mta.write_main(
        default_destination_concurrency_positive_feedback="1/window")
    assert mta.postfix("reload").returncode == 0
    time.sleep(0.5)
    send(mta, "a@example.org", ["x@discard.test"])
    assert mta.wait_for_log(
        r"fatal: default_destination_concurrency_positive_feedback: bad "
        r'value "1/window"; expected a number, optionally followed by '
        r"/concurrency or /sqrt_concurrency")


def test_request_bigger_than_the_socket_buffer(instance):
    """qmgr writes a delivery request without blocking when it fits the
    socket buffer, and waits for the agent to read a bigger one: 2,000
    recipients of over 200 bytes (more than 400 KB, twice Linux's default
    socket buffer) go to discard in one request."""
    instance.write_main(mydestination="", default_transport="discard",
                        discard_destination_recipient_limit="5000")
    instance.write_master(MASTER_CF)
    instance.start()
    wait_until(lambda: (instance.queue / "public" / "cleanup").exists())
    recipients = [f"u{i}-{'x' * 200}@discard.test" for i in range(2000)]
    queue_id = send(instance, "alice@example.org", recipients)
    wait_removed(instance, queue_id, timeout=60)
    lines = deliveries(instance, queue_id)
    assert sorted(m["to"] for m in lines) == sorted(recipients)
    assert all(m["status"] == "sent" for m in lines)
    # One request: every recipient was delivered by the same process.
    pids = set(re.findall(rf"postfix/discard\[(\d+)\]: {queue_id}: to=",
                          instance.log()))
    assert len(pids) == 1, pids
