"""Volume: 20 parallel SMTP senders relay 20,000 messages, each arrives once.

An instance (smtpd, showq, and test_smtp.py's cleanup, qmgr, smtp, scache,
bounce/defer/trace...) relays everything to relayhost = [127.0.0.1]:SINK, a
sink (smtp_load.Sink, the smtp-sink of these tests) running in a thread of
this process. The source (smtp_load.run_source, the smtp-source of these
tests) sends 20,000 messages over 20 concurrent sessions, 10 messages per
connection, one recipient of its own per message (rcptSEQ@remote.test).
Then:
  - every message got 250 after the dot, and every one arrived at the sink
    exactly once, whole, with its own recipient;
  - the maillog has exactly one "status=sent" line per recipient, each
    with a queue ID no other message in the queue had at the time, and
    one "removed" per message (a short queue ID may come back later, for
    a new file with the same inode and microseconds: see check_log);
  - postqueue -p says "Mail queue is empty".
The whole test is bounded (BUDGET seconds) and prints the throughput for
information; nothing asserts a speed.

Under the sanitizer build (ASan+UBSan, as `make system-asan` runs it) the
test sends 2,000 messages instead (MESSAGES_ASAN): on the 2-core machine,
shared with other jobs, the full 20,000 took 48-112 s there (29-92 s with
the plain build), more than the ~90 s a test of that run may take.
"""
import collections
import re
import time

import pytest

from conftest import SBIN, run
from instance import can_connect, free_port, wait_until
from smtp_load import Sink, run_source
from test_smtp import DELIVERY_LINE, MASTER_CF as SMTP_MASTER_CF

MESSAGES = 20000
MESSAGES_ASAN = 2000
SESSIONS = 20
PER_CONNECTION = 10
BUDGET = 280  # seconds for sending plus delivery; pytest's limit is 300

# test_smtp.py's relaying services (smtp, scache, ...), smtpd and showq.
MASTER_CF = ("127.0.0.1:{port} inet n - n - - smtpd\n" + SMTP_MASTER_CF
             + "error unix - - n - - error\n"
             + "showq unix n - n - - showq\n")

REMOVED = re.compile(r"\b([0-9A-Za-z]+): removed$", re.M)
MESSAGE_ID = re.compile(
    r"\b([0-9A-Za-z]+): message-id=<(\d+)\.load@source\.test>$")


def sanitizer_build():
    """True when the programs under test carry AddressSanitizer."""
    return b"__asan_init" in (SBIN / "postfix").read_bytes()


@pytest.fixture
def sink():
    with Sink() as server:
        yield server


@pytest.mark.timeout(300)
def test_twenty_senders_relay_every_message_exactly_once(instance, sink):
    count = MESSAGES_ASAN if sanitizer_build() else MESSAGES
    port = free_port()
    instance.write_main(
        mydestination="", mynetworks="127.0.0.0/8", local_recipient_maps="",
        relayhost=f"[127.0.0.1]:{sink.port}",
        smtp_helo_name="relay.example.test")
    instance.write_master(MASTER_CF.format(port=port))
    instance.start()
    wait_until(lambda: can_connect(port))

    start = time.monotonic()
    deadline = start + BUDGET
    result = run_source(port, count, sessions=SESSIONS,
                        per_connection=PER_CONNECTION, deadline=BUDGET)
    print(f"\nsource: {len(result.acked)} of {count} accepted in "
          f"{result.elapsed:.1f} s ({count / result.elapsed:.0f} msgs/s), "
          f"{result.connections} connections, {result.pipelined} "
          "pipelined")
    assert not result.refused, refusal_report(instance, result)

    arrived = wait_for_sink(sink, count, deadline)
    elapsed = time.monotonic() - start
    print(f"relay: {arrived} of {count} at the sink after {elapsed:.1f} s "
          f"({arrived / elapsed:.0f} msgs/s end to end), sink connections "
          f"{sink.counters['connections']}")
    check_sink(instance, sink, result.acked, count)
    check_log(instance, result.acked, deadline)
    queue = run("postqueue", "-c", instance.etc, "-p")
    assert queue.stdout == "Mail queue is empty\n", (
        queue.stdout[:3000] + queue.stderr)


def wait_for_sink(sink, count, deadline):
    """Wait until count different messages arrived or the deadline passed;
    then a little longer, so that duplicates have a chance to show up.
    Returns how many messages arrived."""
    while time.monotonic() < deadline:
        with sink.lock:
            if len(sink.seqs) >= count:
                break
        time.sleep(0.2)
    time.sleep(1)
    return sink.received()


def check_sink(instance, sink, acked, count):
    """Each accepted message arrived exactly once, undamaged, with its own
    recipient, and nothing else arrived."""
    with sink.lock:
        seqs = dict(sink.seqs)
        rcpts = dict(sink.rcpts)
        errors = list(sink.errors)
    missing = sorted(acked - seqs.keys())
    duplicated = {s: n for s, n in seqs.items() if n > 1}
    unexpected = sorted(seqs.keys() - acked)
    wrong_rcpt = [(s, r) for s, r in rcpts.items()
                  if r != [f"rcpt{s}@remote.test"] * seqs[s]]
    assert not errors, f"sink errors: {errors[:10]}"
    assert not missing, loss_report(instance, missing, count)
    assert not duplicated, ("duplicates at the sink: "
                            f"{sorted(duplicated.items())[:20]}\n"
                            + excerpts(instance, sorted(duplicated)[:3]))
    assert not unexpected, f"never accepted, yet arrived: {unexpected[:20]}"
    assert not wrong_rcpt, f"wrong recipients: {wrong_rcpt[:10]}"


def check_log(instance, acked, deadline):
    """One status=sent line per recipient, and none of another status.
    Short queue IDs are unique only among the files in the queue at one
    time (a later file may get the inode and microseconds of an earlier
    one), so each ID is checked life by life: its k-th delivery is for the
    k-th message that got it, a message gets it only after the previous
    holder was delivered, and it is removed once per message."""
    while len(REMOVED.findall(log := instance.log())) < len(acked) and \
            time.monotonic() < deadline:
        time.sleep(0.5)
    events = queue_id_events(log)
    others = [e for evs in events.values() for e in evs
              if e[0] not in ("message-id", "sent", "removed")]
    assert not others, f"other delivery statuses: {others[:10]}"
    sent = collections.Counter(rcpt for evs in events.values()
                               for kind, rcpt in evs if kind == "sent")
    expected = {f"rcpt{s}@remote.test" for s in acked}
    assert set(sent) == expected and set(sent.values()) == {1}, (
        f"status=sent lines: missing {sorted(expected - set(sent))[:10]}, "
        f"more than one {[r for r, n in sent.items() if n > 1][:10]}, "
        f"unexpected {sorted(set(sent) - expected)[:10]}")
    bad = {queue_id: evs for queue_id, evs in events.items()
           if not one_message_at_a_time(evs)}
    assert not bad, ("queue IDs shared by messages in the queue at the "
                     f"same time, or not removed once: {len(bad)}, e.g. "
                     f"{sorted(bad.items())[:5]}")
    lives = sum(kind == "message-id" for evs in events.values()
                for kind, _ in evs)
    assert lives == len(acked), f"{lives} queue files for {len(acked)}"
    warnings = re.findall(r"postfix/(\w+)\[\d+\]: warning: (.*)", log)
    print(f"log: {len(events)} queue IDs for {lives} messages; "
          f"{len(warnings)} warnings", collections.Counter(
              f"{daemon}: {re.sub(r'^[0-9A-F]+: ', '', text)}"
              for daemon, text in warnings).most_common(5))
    # qmgr takes every waiting trigger and scans in rounds, so cleanup
    # never finds public/qmgr's backlog full for long.
    stuck = [text for daemon, text in warnings
             if daemon == "cleanup" and "public/qmgr" in text]
    assert not stuck, f"{len(stuck)} trigger failures, e.g. {stuck[:3]}"


def queue_id_events(log):
    """Per queue ID, in log order: ("message-id", seq), (status, rcpt)
    for each delivery line, ("removed", None)."""
    events = collections.defaultdict(list)
    for line in log.splitlines():
        if match := DELIVERY_LINE.search(line):
            events[match["id"]].append((match["status"], match["to"]))
        elif match := MESSAGE_ID.search(line):
            events[match[1]].append(("message-id", int(match[2])))
        elif match := REMOVED.search(line):
            events[match[1]].append(("removed", None))
    return events


def one_message_at_a_time(events):
    """True when the messages that carried this queue ID followed each
    other: message k's delivery is for message k's recipient, message
    k+1 appears only after it, and there is one removal per message (a
    removal may be logged after the next message appears: qmgr logs it
    after the unlink that frees the ID)."""
    seqs = [seq for kind, seq in events if kind == "message-id"]
    sent = [(i, rcpt) for i, (kind, rcpt) in enumerate(events)
            if kind == "sent"]
    starts = [i for i, (kind, _) in enumerate(events)
              if kind == "message-id"]
    removed = sum(kind == "removed" for kind, _ in events)
    return (removed == len(seqs)
            and [rcpt for _, rcpt in sent]
            == [f"rcpt{seq}@remote.test" for seq in seqs]
            and all(sent[k][0] < starts[k + 1]
                    for k in range(len(starts) - 1)))


def refusal_report(instance, result):
    """Why messages were refused: the source's view and the log's."""
    reasons = collections.Counter(result.refused.values())
    log = instance.log()
    rejects = [line for line in log.splitlines()
               if "reject:" in line or "warning:" in line
               or "fatal:" in line or "panic:" in line]
    return (f"{len(result.refused)} refused; reasons: "
            f"{reasons.most_common(5)}\nsession errors: {result.errors[:5]}"
            f"\nlog: " + "\n".join(rejects[:30]))


def loss_report(instance, missing, count):
    """Which messages are missing and what the log and queue say."""
    queue = run("postqueue", "-c", instance.etc, "-p").stdout
    return (f"lost {len(missing)} of {count}: {missing[:20]}\n"
            + excerpts(instance, missing[:3])
            + f"\nqueue:\n{queue[:2000]}")


def excerpts(instance, seqs):
    """The log lines of each message's queue ID (found by Message-ID)."""
    log = instance.log()
    out = []
    for seq in seqs:
        ids = re.findall(rf"(\w+): message-id=<{seq}\.load@source\.test>",
                         log)
        out.append(f"seq {seq}: queue IDs {ids}")
        out += [line for line in log.splitlines()
                if any(i in line for i in ids)]
    return "\n".join(out)
