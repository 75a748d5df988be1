"""Access-table actions that apply to the whole message: HOLD, DISCARD,
FILTER, REDIRECT, BCC and PREPEND from check_*_access, carried out through
cleanup and qmgr, with Postfix's log lines (NOQUEUE at the first
recipient, whose queue file is not open yet), e.g.
    NOQUEUE: hold: RCPT from unknown[127.0.0.1]: <h@a.test>: Recipient
        address triggers HOLD action; from=<s@x.test> to=<h@a.test>
        proto=ESMTP helo=<client.test>
"""
import json
import re
import smtplib

import pytest

from conftest import run
from instance import free_port, wait_until

ACCESS = """\
hold@a.test HOLD
discard@a.test DISCARD
filter@a.test FILTER discard:filtered.test
redirect@a.test REDIRECT other@discard.test
bcc@a.test BCC copy@discard.test
prepend@a.test PREPEND X-Tag: tagged
"""


@pytest.fixture
def mta(instance):
    port = free_port()
    (instance.etc / "access").write_text(ACCESS)
    (instance.etc / "senders").write_text("holdme@x.test HOLD\n")
    instance.write_main(
        mydestination="", mynetworks="127.0.0.0/8", default_transport="discard",
        smtpd_recipient_restrictions=(
            f"check_recipient_access texthash:{instance.etc}/access, "
            "permit_mynetworks, reject"),
        smtpd_sender_restrictions=(
            f"check_sender_access texthash:{instance.etc}/senders"))
    instance.write_master(
        f"127.0.0.1:{port} inet n - n - - smtpd\n"
        "cleanup unix n - n - 0 cleanup\n"
        "qmgr unix n - n 300 1 qmgr\n"
        "showq unix n - n - - showq\n"
        "discard unix - - n - - discard\n")
    instance.start()

    def ready():
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return True
        except OSError:
            return False
    assert wait_until(ready), instance.log()
    instance.port = port
    return instance


def send(inst, rcpt, sender="s@x.test"):
    with smtplib.SMTP("127.0.0.1", inst.port, timeout=20) as client:
        client.ehlo("client.test")
        client.sendmail(sender, [rcpt], "Subject: act\r\n\r\nbody\r\n")
    match = re.findall(r"(\w+): client=unknown\[127\.0\.0\.1\]", inst.log())
    return match[-1]


def queue(inst):
    out = run("postqueue", "-c", inst.etc, "-j").stdout
    return [json.loads(line) for line in out.splitlines()]


def test_hold(mta):
    queue_id = send(mta, "hold@a.test")
    assert wait_until(lambda: [m["queue_name"] for m in queue(mta)] ==
                      ["hold"]), mta.log()
    assert re.search(
        r"NOQUEUE: hold: RCPT from unknown\[127\.0\.0\.1\]: "
        r"<hold@a\.test>: Recipient address triggers HOLD action; "
        r"from=<s@x\.test> to=<hold@a\.test> proto=ESMTP "
        r"helo=<client\.test>", mta.log()), mta.log()


def test_discard(mta):
    queue_id = send(mta, "discard@a.test")
    assert re.search(r"NOQUEUE: discard: RCPT from .*<discard@a\.test>: "
                     r"Recipient address triggers DISCARD action", mta.log())
    assert wait_until(lambda: queue(mta) == [])
    assert f"{queue_id}: to=<" not in mta.log()


def test_filter_redirect_bcc(mta):
    filtered = send(mta, "filter@a.test")
    redirected = send(mta, "redirect@a.test")
    copied = send(mta, "bcc@a.test")
    for queue_id in (filtered, redirected, copied):
        assert mta.wait_for_log(rf"{queue_id}: removed"), mta.log()
    log = mta.log()
    assert re.search(r"NOQUEUE: filter: RCPT from .*<filter@a\.test>: "
                     r"Recipient address triggers FILTER "
                     r"discard:filtered\.test", log)
    assert re.search(rf"{filtered}: to=<filter@a\.test>, relay=none, .*"
                     r"status=sent \(filtered\.test\)", log)
    assert re.search(rf"{redirected}: to=<other@discard\.test>, "
                     r"orig_to=<redirect@a\.test>, .*status=sent", log)
    assert re.search(rf"{copied}: to=<bcc@a\.test>, .*status=sent", log)
    assert re.search(rf"{copied}: to=<copy@discard\.test>, .*status=sent", log)


def test_prepend(mta):
    queue_id = send(mta, "prepend@a.test", sender="holdme@x.test")
    assert wait_until(lambda: [m["queue_name"] for m in queue(mta)] ==
                      ["hold"]), mta.log()
    text = run("postcat", "-c", mta.etc, "-bh", "-q", queue_id).stdout
    headers = text.splitlines()
    assert headers[0] == "X-Tag: tagged", text
    assert headers[1].startswith("Received: from client.test"), text
