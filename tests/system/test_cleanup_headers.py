"""Address rewriting in message headers by cleanup: completion with
$myorigin, canonical maps, masquerading, and the local/remote rewrite
context, on a real instance through the cleanup protocol.

Expected headers were recorded from Debian's Postfix 3.7 (smtpd ->
cleanup, postcat -q) with the same tables and parameters:
  - sender headers (sender_canonical_maps): From, Sender, Reply-To,
    Errors-To, Return-Receipt-To, Disposition-Notification-To,
    Mail-Followup-To, Resent-From, Resent-Sender; recipient headers
    (recipient_canonical_maps): To, Cc, Resent-To, Resent-Cc,
    Resent-Reply-To, Apparently-To; never Delivered-To, X-Original-To,
    Mail-Reply-To, In-Reply-To, Subject;
  - a header is written back only when an address changed, with display
    names and comments kept and the list folded after commas below 70
    columns;
  - from a client outside local_header_rewrite_clients (rewrite_context
    remote) headers are left alone, unless remote_header_rewrite_domain is
    set: then bare users get that domain and the maps apply; the envelope
    is rewritten either way.
Postern deviates on purpose for malformed headers ("<joe", an unterminated
quoted string), which Postfix quotes into an address and Postern leaves
alone.
"""
import re
import time

from conftest import run
from postern_proto import CLEANUP_FLAG_LOCAL, submit

MASTER_CF = "cleanup unix n - n - 0 cleanup\n"
CLEANUP_STAT_WRITE = 2


def start(instance, **params):
    etc = instance.etc
    (etc / "canonical").write_text(
        "joe@host.example.com Joe.Public@example.com\n")
    (etc / "scanon").write_text("s@example.org sender-rewritten@example.org\n")
    (etc / "rcanon").write_text("s@example.org rcpt-rewritten@example.org\n")
    base = {
        "myhostname": "host.example.com",
        "mydomain": "example.com",
        "myorigin": "$myhostname",
        "mydestination": "$myhostname, localhost",
        "append_dot_mydomain": "no",
        "canonical_maps": f"texthash:{etc}/canonical",
        "sender_canonical_maps": f"texthash:{etc}/scanon",
        "recipient_canonical_maps": f"texthash:{etc}/rcanon",
    }
    base.update(params)
    instance.write_main(**base)
    instance.write_master(MASTER_CF)
    proc = instance.postfix("start")
    assert proc.returncode == 0, proc.stderr + instance.log()
    sock = instance.queue / "public" / "cleanup"
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, instance.log()
        time.sleep(0.05)
    return sock


def queued(instance, sock, text, flags=CLEANUP_FLAG_LOCAL,
           sender="s@example.org"):
    """Submit text; return (envelope sender, the message's headers as the
    queue file has them, Message-Id and Date left out)."""
    queue_id, reply = submit(sock, sender,
                             [("r@example.org", "r@example.org", 0, None)],
                             text, flags=flags)
    assert reply["status"] == 0, (reply, instance.log())
    proc = run("postcat", "-c", instance.etc, "-q", queue_id)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    env_sender = re.search(r"^sender: (.*)$", out, re.M).group(1)
    body = out.split("*** MESSAGE CONTENTS", 1)[1].split("\n", 1)[1]
    headers = body.split("\n\n", 1)[0]
    kept = [line for line in headers.split("\n")
            if not re.match(r"(Message-Id|Date|Resent-Message-Id|"
                            r"Resent-Date): ", line)]
    return env_sender, "\n".join(kept)


def test_sender_and_recipient_headers(instance):
    sock = start(instance)
    _, headers = queued(instance, sock, """\
From: Joe User <joe>
Sender: joe (comment here)
Reply-To: s@example.org
Errors-To: s@example.org
Return-Receipt-To: s@example.org
Disposition-Notification-To: s@example.org
Resent-From: s@example.org
Resent-Sender: s@example.org
Resent-Reply-To: s@example.org
To: s@example.org, "Quoted, Name" <joe>, group: a, b@x.example;
Cc: s@example.org
Bcc: s@example.org
Resent-To: s@example.org
Resent-Cc: s@example.org
Resent-Bcc: s@example.org
Apparently-To: s@example.org
Delivered-To: s@example.org
Return-Path: <s@example.org>
X-Original-To: s@example.org
Envelope-To: s@example.org
In-Reply-To: <s@example.org>
Subject: s@example.org
Mail-Followup-To: s@example.org
Mail-Reply-To: s@example.org

body
""")
    assert headers == """\
From: Joe User <Joe.Public@example.com>
Sender: Joe.Public@example.com (comment here)
Reply-To: sender-rewritten@example.org
Errors-To: sender-rewritten@example.org
Return-Receipt-To: sender-rewritten@example.org
Disposition-Notification-To: sender-rewritten@example.org
Resent-From: sender-rewritten@example.org
Resent-Sender: sender-rewritten@example.org
Resent-Reply-To: rcpt-rewritten@example.org
To: rcpt-rewritten@example.org,
\t"Quoted, Name" <Joe.Public@example.com>, group: a@host.example.com,
\tb@x.example;
Cc: rcpt-rewritten@example.org
Resent-To: rcpt-rewritten@example.org
Resent-Cc: rcpt-rewritten@example.org
Apparently-To: rcpt-rewritten@example.org
Delivered-To: s@example.org
X-Original-To: s@example.org
Envelope-To: s@example.org
In-Reply-To: <s@example.org>
Subject: s@example.org
Mail-Followup-To: sender-rewritten@example.org
Mail-Reply-To: s@example.org"""


def test_display_names_comments_and_folding(instance):
    sock = start(instance)
    _, headers = queued(instance, sock, """\
To: Joe   User<joe>
To: joe (Joe User)
To: Joe User <joe> (comment) , other@x.example
To:   x@x.example ,  y@x.example
To: undisclosed: joe;
To: group:;
To: "joe smith"
To: joe,
  x@x.example
Cc: aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff
Cc: =?utf-8?q?J=C3=B6e?= <joe>
Cc: <@route.example:joe@host.example.com>
Cc: joe@host

body
""")
    assert headers == """\
To: Joe User <Joe.Public@example.com>
To: Joe.Public@example.com (Joe User)
To: Joe User <Joe.Public@example.com>(comment), other@x.example
To:   x@x.example ,  y@x.example
To: undisclosed: Joe.Public@example.com;
To: group:;
To: "joe smith"@host.example.com
To: Joe.Public@example.com, x@x.example
Cc: aaaaaaaaaa@host.example.com, bbbbbbbbbb@host.example.com,
\tcccccccccc@host.example.com, dddddddddd@host.example.com,
\teeeeeeeeee@host.example.com, ffffffffff@host.example.com
Cc: =?utf-8?q?J=C3=B6e?= <Joe.Public@example.com>
Cc: <Joe.Public@example.com>
Cc: joe@host
From: sender-rewritten@example.org"""


def test_malformed_headers_left_alone(instance):
    sock = start(instance)
    _, headers = queued(instance, sock, """\
From: Joe <joe
To: "unterminated joe
Cc: joe (open comment
Cc: joe <joe> <joe>

body
""")
    assert headers == """\
From: Joe <joe
To: "unterminated joe
Cc: joe (open comment
Cc: joe <joe> <joe>"""


def test_masquerading(instance):
    sock = start(instance,
                 masquerade_domains="!keep.example.com, example.com",
                 masquerade_exceptions="root")
    _, headers = queued(instance, sock, """\
From: Joe <joe@sub.example.com>
Sender: root@sub.example.com
To: a@sub.example.com, b@keep.example.com, c@other.example.net, d
Cc: Dee <d@deep.sub.example.com>

body
""")
    assert headers == """\
From: Joe <joe@example.com>
Sender: root@sub.example.com
To: a@example.com, b@keep.example.com, c@other.example.net,
\td@example.com
Cc: Dee <d@example.com>"""


def test_classes(instance):
    # Headers out of every class: only completion with $myorigin is left.
    sock = start(instance, canonical_classes="envelope_sender",
                 sender_canonical_classes="envelope_sender",
                 recipient_canonical_classes="envelope_recipient",
                 masquerade_domains="example.com",
                 masquerade_classes="envelope_sender")
    env_sender, headers = queued(instance, sock, """\
From: joe
To: s@example.org, x@sub.example.com

body
""")
    assert env_sender == "sender-rewritten@example.org"
    assert headers == """\
From: joe@host.example.com
To: s@example.org, x@sub.example.com"""


REMOTE_MESSAGE = """\
From: Joe User <joe>
Reply-To: s@example.org
To: joe, bare, s@example.org, "q u"
Cc: other@x.example, x@host
Delivered-To: joe

body
"""


def test_remote_client_untouched_by_default(instance):
    sock = start(instance)
    env_sender, headers = queued(instance, sock, REMOTE_MESSAGE, flags=0)
    assert env_sender == "sender-rewritten@example.org"
    assert headers == """\
From: Joe User <joe>
Reply-To: s@example.org
To: joe, bare, s@example.org, "q u"
Cc: other@x.example, x@host
Delivered-To: joe"""


def test_remote_header_rewrite_domain(instance):
    sock = start(instance, remote_header_rewrite_domain="remote.example")
    env_sender, headers = queued(instance, sock, REMOTE_MESSAGE, flags=0)
    assert env_sender == "sender-rewritten@example.org"
    assert headers == """\
From: Joe User <joe@remote.example>
Reply-To: sender-rewritten@example.org
To: joe@remote.example, bare@remote.example,
\trcpt-rewritten@example.org, "q u"@remote.example
Cc: other@x.example, x@host
Delivered-To: joe"""


def test_table_failure_defers(instance):
    sock = start(instance,
                 recipient_canonical_maps=f"texthash:{instance.etc}/missing",
                 recipient_canonical_classes="header_recipient")
    queue_id, reply = submit(sock, "s@example.org",
                             [("r@example.org", "r@example.org", 0, None)],
                             "To: x@example.net\n\nbody\n")
    assert reply["status"] & CLEANUP_STAT_WRITE, reply
    assert re.search(r"warning: [0-9A-F]+: recipient_canonical_maps map "
                     r"lookup problem for x@example.net -- message not "
                     r"accepted, try again later", instance.log())


def test_remote_header_rewrite_domain_adds_missing_headers(instance):
    # With a remote_header_rewrite_domain, Postfix treats a remote message
    # like a local one here too: Message-Id, Date and From are added.
    sock = start(instance, remote_header_rewrite_domain="remote.example")
    queue_id, reply = submit(sock, "s@example.org",
                             [("r@example.org", "r@example.org", 0, None)],
                             "Subject: x\n\nbody\n", flags=0)
    assert reply["status"] == 0, (reply, instance.log())
    proc = run("postcat", "-c", instance.etc, "-h", "-q", queue_id)
    assert re.search(r"^Message-Id: <[^>]+@host\.example\.com>$",
                     proc.stdout, re.M), proc.stdout
    assert re.search(r"^Date: ", proc.stdout, re.M), proc.stdout
    assert re.search(r"^From: sender-rewritten@example\.org$", proc.stdout,
                     re.M), proc.stdout


def test_remote_client_gets_no_missing_headers_by_default(instance):
    sock = start(instance)
    queue_id, reply = submit(sock, "s@example.org",
                             [("r@example.org", "r@example.org", 0, None)],
                             "Subject: x\n\nbody\n", flags=0)
    assert reply["status"] == 0, (reply, instance.log())
    proc = run("postcat", "-c", instance.etc, "-h", "-q", queue_id)
    assert not re.search(r"^(Message-Id|Date|From): ", proc.stdout,
                         re.M), proc.stdout
