"""8-bit mail relayed by the smtp agent: smtpd takes BODY=8BITMIME (or
BODY=7BIT) into the queue file's "encoding" attribute, qmgr hands it to
the agent, and the agent, facing a server that does not announce
8BITMIME, converts 8-bit MIME to quoted-printable (mime_downgrade.h).
The remote side is aiosmtpd with or without 8BITMIME in its EHLO reply.

Facts checked here, as Postfix 3.7 behaves:
  - a peer without 8BITMIME gets 7-bit data (8bit parts become
    quoted-printable, their Content-Transfer-Encoding rewritten), and no
    BODY= parameter; the text decodes back to the original;
  - a peer with 8BITMIME gets the data unchanged and BODY=8BITMIME, or
    BODY=7BIT when the client said BODY=7BIT;
  - disable_mime_output_conversion = yes sends the 8-bit data as it is;
  - too deep a multipart nesting bounces: dsn=5.6.0, status=bounced
    (MIME nesting exceeds safety limit), the message not finished.
"""
import email
import email.policy
import smtplib

import pytest

from instance import free_port
from postern_proto import submit
from test_smtp import (MASTER_CF, Recorder, deliveries, mta, sink,  # noqa
                       wait_removed)

TEXT = "Grüße aus Köln — naïve café\n= sign, trailing space \nend\n"

MESSAGE = (
    "Subject: 8-bit test\n"
    "From: alice@example.org\n"
    "To: bob@remote.test\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"BOUND\"\n"
    "\n"
    "preamble\n"
    "--BOUND\n"
    "Content-Transfer-Encoding: 8bit\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    f"{TEXT}"
    "--BOUND\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAECAwQF\n"
    "--BOUND--\n").encode()


class BodyRecorder(Recorder):
    """Records MAIL FROM parameters too; offers 8BITMIME or not."""

    def __init__(self, has_8bitmime):
        super().__init__()
        self.has_8bitmime = has_8bitmime
        self.mail_options = []

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.has_8bitmime:
            return responses
        return [r for r in responses if r[4:] != "8BITMIME"]

    async def handle_DATA(self, server, session, envelope):
        self.mail_options.append(list(envelope.mail_options))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay(mta, sink):
    """start(has_8bitmime, **params): an instance with smtpd on a port of
    its own, relaying everything to a recording peer; returns (peer
    handler, smtpd port)."""

    def start(has_8bitmime, **params):
        handler, peer_port = sink(BodyRecorder(has_8bitmime))
        smtpd_port = free_port()
        mta.write_master(MASTER_CF +
                         f"127.0.0.1:{smtpd_port} inet n - n - - smtpd\n")
        mta.write_main(relayhost=f"[127.0.0.1]:{peer_port}",
                       mynetworks="127.0.0.0/8", **params)
        mta.start()
        return handler, smtpd_port
    return start


def smtp_send(port, message, options=(), sender="alice@example.org"):
    # smtplib sends bytes as they are: give it CRLF line ends.
    message = message.replace(b"\n", b"\r\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.test")
        refused = client.sendmail(sender, ["bob@remote.test"], message,
                                  mail_options=list(options))
        assert not refused


def wait_sent(mta):
    line = mta.wait_for_log(r"status=(sent|bounced|deferred)", 20)
    assert line and "status=sent" in line.group(0), mta.log()


def text_part(content):
    msg = email.message_from_bytes(content.replace(b"\r\n", b"\n"),
                                   policy=email.policy.default)
    parts = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
    assert len(parts) == 1, content
    return parts[0]


def body_of(content):
    return content.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]


def test_peer_without_8bitmime_gets_quoted_printable(relay, mta):
    handler, port = relay(False)
    smtp_send(port, MESSAGE, ["BODY=8BITMIME"])
    wait_sent(mta)
    content, options = handler.envelopes[0][2], handler.mail_options[0]
    assert not any(o.startswith("BODY=") for o in options), options
    assert max(content) < 128, content
    part = text_part(content)
    assert part["Content-Transfer-Encoding"] == "quoted-printable"
    # The line end before a delimiter belongs to the delimiter.
    assert part.get_content() == TEXT[:-1]
    text = content.replace(b"\r\n", b"\n")
    # Postfix's encoding, byte for byte; the other parts as they were.
    assert (b"\nContent-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: quoted-printable\n\n"
            b"Gr=C3=BC=C3=9Fe aus K=C3=B6ln =E2=80=94 na=C3=AFve caf=C3=A9\n"
            b"=3D sign, trailing space=20\nend\n--BOUND\n") in text, text
    assert (b"\npreamble\n--BOUND\n" in text and
            b"Content-Transfer-Encoding: base64\n\nAAECAwQF\n--BOUND--\n"
            in text), text


def test_conversion_without_body_parameter(relay, mta):
    """No BODY= at all (encoding unknown): converted all the same."""
    handler, port = relay(False)
    smtp_send(port, MESSAGE)
    wait_sent(mta)
    content = handler.envelopes[0][2]
    assert max(content) < 128, content
    assert text_part(content).get_content() == TEXT[:-1]


def test_peer_with_8bitmime_gets_data_unchanged(relay, mta):
    handler, port = relay(True)
    smtp_send(port, MESSAGE, ["BODY=8BITMIME"])
    wait_sent(mta)
    content, options = handler.envelopes[0][2], handler.mail_options[0]
    assert "BODY=8BITMIME" in options, options
    assert body_of(content) == body_of(MESSAGE)
    assert b"Content-Transfer-Encoding: 8bit\n" in content.replace(
        b"\r\n", b"\n")


TOP_8BIT = ("Subject: top\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8Bit (sic)\n\n"
            f"{TEXT}").encode()


@pytest.mark.parametrize("message, detect, body", [
    (MESSAGE, "yes", ["BODY=8BITMIME"]),   # a part's header
    (TOP_8BIT, "yes", ["BODY=8BITMIME"]),  # the message header
    (MESSAGE, "no", []),
    (b"Subject: x\n\nContent-Transfer-Encoding: 7bit\n", "yes", []),
])
def test_8bit_header_marks_the_message(relay, mta, message, detect, body):
    """No BODY= from the client: with detect_8bit_encoding_header (the
    default) a Content-Transfer-Encoding of 8bit or binary marks the
    message 8-bit, so a peer with 8BITMIME gets BODY=8BITMIME."""
    handler, port = relay(True, detect_8bit_encoding_header=detect)
    smtp_send(port, message)
    wait_sent(mta)
    options = handler.mail_options[0]
    assert [o for o in options if o.startswith("BODY=")] == body, options


def test_body_7bit_is_passed_on(relay, mta):
    handler, port = relay(True)
    smtp_send(port, b"Subject: plain\n\nascii only\n", ["BODY=7BIT"])
    wait_sent(mta)
    assert "BODY=7BIT" in handler.mail_options[0], handler.mail_options


def test_conversion_disabled_sends_8bit(relay, mta):
    handler, port = relay(False, disable_mime_output_conversion="yes")
    smtp_send(port, MESSAGE, ["BODY=8BITMIME"])
    wait_sent(mta)
    content, options = handler.envelopes[0][2], handler.mail_options[0]
    assert not any(o.startswith("BODY=") for o in options), options
    assert body_of(content) == body_of(MESSAGE)


def nested(levels):
    head = "".join(f"Content-Type: multipart/mixed; boundary=L{i}\n\n--L{i}\n"
                   for i in range(levels, 0, -1))
    tail = "".join(f"--L{i}--\n" for i in range(1, levels + 1))
    return ("Subject: deep\nMIME-Version: 1.0\n" + head +
            "Content-Transfer-Encoding: 8bit\n\ndeep \u00e9\n" + tail)


def test_nesting_too_deep_bounces(relay, mta):
    handler, _ = relay(False, mime_nesting_limit="1")
    # The null sender: no bounce notice goes back through the peer.
    queue_id, reply = submit(mta.queue / "public" / "cleanup", "",
                             [("bob@remote.test", "bob@remote.test", 0,
                               None)], nested(4))
    assert reply["status"] == 0, reply
    wait_removed(mta, queue_id)
    lines = deliveries(mta, queue_id)
    assert [m["status"] for m in lines] == ["bounced"], mta.log()
    assert lines[0]["dsn"] == "5.6.0"
    assert lines[0]["reason"] == "MIME nesting exceeds safety limit"
    assert lines[0]["relay"].startswith("127.0.0.1[127.0.0.1]:")
    assert handler.envelopes == []


def test_nesting_within_limit_is_converted(relay, mta):
    handler, _ = relay(False, mime_nesting_limit="1")
    queue_id, reply = submit(mta.queue / "public" / "cleanup", "",
                             [("bob@remote.test", "bob@remote.test", 0,
                               None)], nested(3))
    assert reply["status"] == 0, reply
    wait_removed(mta, queue_id)
    assert [m["status"] for m in deliveries(mta, queue_id)] == ["sent"]
    assert b"\r\ndeep =C3=A9\r\n" in handler.envelopes[0][2]
