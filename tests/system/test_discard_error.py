"""The discard, error and retry delivery agents end to end, without qmgr.

An instance runs cleanup and the agents ("discard unix - - n - - discard",
"error unix - - n - - error", "retry unix - - n - - error"); a message
submitted through cleanup is moved to active/ and each agent gets a
delivery request through postern_proto.deliver. Expected log lines were
recorded from Debian's Postfix 3.7 (transport_maps entries "discard:",
"discard:some text here", "discard:5.7.1 policy discard", "error:5.1.1 no
such thing", "error:plain reason", "retry:4.4.1 try later"):
    postfix/discard[..]: ID: to=<a@disc.example>, relay=none, delay=0.03,
      delays=0/0.02/0/0, dsn=2.0.0, status=sent (disc.example)
    postfix/discard[..]: warning: sent: ignoring dsn code "5.7.1"
    ... dsn=2.0.0, status=sent (policy discard)
    postfix/error[..]: ID: to=<d@err.example>, relay=none, ..., dsn=5.1.1,
      status=bounced (no such thing)
    ... dsn=5.0.0, status=bounced (plain reason)
    ... dsn=4.4.1, status=deferred (try later)
"""
import os
import time

import pytest

from postern_proto import deliver, delivery_request, read_records, submit

MASTER_CF = ("cleanup unix n - n - 0 cleanup\n"
             "discard unix - - n - - discard\n"
             "error unix - - n - - error\n"
             "retry unix - - n - - error\n")


def let_mail_owner_traverse(root):
    """As root, the agents run as mail_owner and open queue files by their
    absolute path (queue_file_open), so pytest's private 0700 directories
    above the instance must be searchable."""
    if os.geteuid() != 0:
        return
    for parent in root.parents:
        if parent == parent.parent or str(parent) == "/tmp":
            break
        mode = parent.stat().st_mode
        os.chmod(parent, mode | 0o011)


@pytest.fixture
def agents(instance):
    let_mail_owner_traverse(instance.root)
    instance.write_master(MASTER_CF)
    instance.start()
    for name in ("public/cleanup", "private/discard", "private/error",
                 "private/retry"):
        sock = instance.queue / name
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline, instance.log()
            time.sleep(0.05)
    return instance


def queue_message(inst, recipients):
    queue_id, reply = submit(inst.queue / "public" / "cleanup",
                             "s@x.example", recipients, "Subject: t\n\nbody\n")
    assert reply["status"] == 0, reply
    (inst.queue / "active").mkdir(exist_ok=True)
    dst = inst.queue / "active" / queue_id
    os.rename(inst.queue / "incoming" / queue_id, dst)
    return queue_id, dst


def record_types(path):
    return [t for _, t, _ in read_records(path) if t in "RD"]


def msg_log(inst, log, queue_id):
    found = list((inst.queue / log).rglob(queue_id))
    assert len(found) == 1, (log, queue_id, found)
    return found[0].read_text()


def line(agent, queue_id, to, dsn, status, reason):
    return (rf"postfix/{agent}\[\d+\]: {queue_id}: to=<{to}>, relay=none, "
            rf"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, "
            rf"dsn={dsn}, status={status} \({reason}\)")


@pytest.mark.parametrize("nexthop, dsn, reason, warning", [
    ("disc.example", r"2\.0\.0", r"disc\.example", None),
    ("some text here", r"2\.0\.0", "some text here", None),
    ("5.7.1 policy discard", r"2\.0\.0", "policy discard",
     r'warning: sent: ignoring dsn code "5\.7\.1"'),
    ("2.1.5 fine", r"2\.1\.5", "fine", None),
    ("", r"2\.0\.0", "discarded", None),
])
def test_discard(agents, nexthop, dsn, reason, warning):
    queue_id, path = queue_message(agents, ["a@disc.example",
                                            "b@disc.example"])
    reply = deliver(agents.queue / "private" / "discard",
                    delivery_request(path, nexthop=nexthop))
    assert reply["status"] == 0
    assert reply["results"] == b"SS"
    agents.wait_for_log(line("discard", queue_id, r"b@disc\.example", dsn,
                             "sent", reason))
    if warning:
        agents.wait_for_log(r"postfix/discard\[\d+\]: " + warning)
    assert record_types(path) == ["D", "D"]


@pytest.mark.parametrize("service, nexthop, dsn, status, reason, result", [
    ("error", "5.1.1 no such thing", r"5\.1\.1", "bounced",
     "no such thing", b"B"),
    ("error", "plain reason", r"5\.0\.0", "bounced", "plain reason", b"B"),
    ("error", "", r"5\.0\.0", "bounced", "Address is undeliverable", b"B"),
    ("retry", "4.4.1 try later", r"4\.4\.1", "deferred", "try later", b"D"),
    ("retry", "later", r"4\.0\.0", "deferred", "later", b"D"),
])
def test_error_and_retry(agents, service, nexthop, dsn, status, reason,
                         result):
    queue_id, path = queue_message(agents, ["d@err.example"])
    reply = deliver(agents.queue / "private" / service,
                    delivery_request(path, nexthop=nexthop))
    assert reply["status"] == 0
    assert reply["results"] == result
    agents.wait_for_log(line("error", queue_id, r"d@err\.example", dsn,
                             status, reason))
    if result == b"B":
        text = msg_log(agents, "bounce", queue_id)
        assert record_types(path) == ["D"]
    else:
        text = msg_log(agents, "defer", queue_id)
        assert record_types(path) == ["R"]
    assert f"status={dsn.replace(chr(92), '')}\n" in text
    assert f"reason={reason}\n" in text


def test_error_wrong_class_code(agents):
    queue_id, path = queue_message(agents, ["d@err.example"])
    deliver(agents.queue / "private" / "error",
            delivery_request(path, nexthop="4.1.1 odd"))
    agents.wait_for_log(r'postfix/error\[\d+\]: warning: bounce: ignoring '
                        r'dsn code "4\.1\.1"')
    agents.wait_for_log(line("error", queue_id, r"d@err\.example",
                             r"5\.0\.0", "bounced", "odd"))
