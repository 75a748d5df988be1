"""header_checks and body_checks in cleanup, end to end: smtpd + cleanup.

The instance has no qmgr, so accepted mail stays in incoming/ (or hold/)
where build's postcat reads it. Expected replies and log lines were
recorded from Debian's Postfix 3.7.11 with the same tables (a scratch
instance on a loopback port, smtplib as the client), e.g.:
    550 5.7.1 message content rejected
    451 4.7.1 try later                     (REJECT 4.7.1 try later)
    250 2.0.0 Ok: queued as ID              (DISCARD: no file remains)
    ID: reject: header Subject: reject-default from localhost[127.0.0.1];
        from=<a@example.com> to=<c@example.com> proto=ESMTP
        helo=<h.example>: 5.7.1 message content rejected
    ID: discard: header Subject: discard-default from ...helo=<h.example>
    ID: warning: header X-Fold: a??b from ...: pcre-fold-matched
        (a folded header is looked up with its "\\n\\t" in place)
    warning: bad PREPEND header text "not a header" in header_checks map
        -- need "headername: headervalue"
    warning: ID: header_checks map lookup problem -- message not
        accepted, try again later        (SMTP: 451 4.3.0)
    the header text in a log line is cut at 200 bytes; an empty body line
    is never looked up; "to=" names the last envelope recipient.
We have no reverse DNS, so the client is "unknown[127.0.0.1]" here.
A table that fails to open (missing file, bad pattern) does not stop
cleanup: as in Postfix 3.7 every message that reaches it is deferred:
    error: open /x/missing: No such file or directory     (at start)
    warning: regexp:/x/missing lookup error for "Received: ..."
    warning: ID: header_checks map lookup problem -- message not
        accepted, try again later
    451 4.3.0 Error: queue file write error                (SMTP)
(Postfix skips a bad regexp line with a warning; Postern's regexp table
refuses the whole file, so that table defers everything.)
"""
import os
import re
import smtplib

import pytest


from conftest import run
from instance import can_connect, free_port, wait_until

ENV = {"TZ": "UTC"}

HEADER_CHECKS = r"""
/^Subject: reject-default/ REJECT
/^Subject: reject-text/ REJECT go away now
/^Subject: reject-dsn/ REJECT 5.7.0 custom dsn
/^Subject: reject-4xx/ REJECT 4.7.1 try later
/^Subject: discard-default/ DISCARD
/^Subject: discard-text/ DISCARD dropped it
/^Subject: hold-default/ HOLD
/^Subject: hold-text/ HOLD held it
/^Subject: warn-text/ WARN warned it
/^Subject: info-text/ INFO informed
/^Subject: ignore/ IGNORE
/^Subject: strip/ STRIP stripped
/^Subject: prepend/ PREPEND X-Added: yes
/^Subject: badprepend/ PREPEND not a header
/^Subject: replace/ REPLACE X-Replaced: done
/^Subject: redirect/ REDIRECT other@example.net
/^Subject: filter/ FILTER smtp:[127.0.0.1]:10025
/^Subject: bcc/ BCC copy@example.net
/^Subject: unknown/ FROBNICATE now
/^Subject: pass/ PASS passed
/^Subject: long/ WARN long
/^Subject: (a|aa)+$/ REJECT never reached
/^X-Fold: a\n\tb$/ WARN pcre-fold-matched
/^X-Multi: one/ WARN multi-one
/^X-Multi: two/ WARN multi-two
/^X-Sub: (.*)/ WARN subst $1
/^X-After-Pass:/ REJECT must not fire
""".lstrip()

BODY_CHECKS = r"""
/^body-reject/ REJECT body says no
/^body-ignore/ IGNORE
/^body-replace/ REPLACE replaced line
/^body-prepend/ PREPEND prepended line
/^body-warn/ WARN body warned
/^body-hold/ HOLD
/^body-discard/ DISCARD
/^$/ WARN empty line matched
""".lstrip()

CTX = (r" from unknown\[127\.0\.0\.1\]; from=<a@example\.com> "
       r"to=<c@example\.com> proto=ESMTP helo=<h\.example>")


@pytest.fixture(scope="module")
def inst(tmp_path_factory, mail_owner):
    from instance import Instance

    root = tmp_path_factory.mktemp("checks")
    inst = Instance(root / "postern", mail_owner=mail_owner)
    (root / "hc").write_text(HEADER_CHECKS)
    (root / "bc").write_text(BODY_CHECKS)
    inst.write_main(mynetworks="127.0.0.0/8", smtpd_error_sleep_time="0",
                    header_checks=f"pcre:{root}/hc",
                    body_checks=f"regexp:{root}/bc")
    inst.port = free_port()
    inst.write_master("cleanup unix n - n - 0 cleanup\n"
                      f"127.0.0.1:{inst.port} inet n - n - - smtpd\n")
    inst.start()
    wait_until(lambda: can_connect(inst.port))
    yield inst
    inst.cleanup()


def send(inst, subject, extra="", body="hello"):
    """One message to two recipients; returns (code, text, queue_id)."""
    headers = f"From: a@example.com\r\nTo: b@example.com\r\n" \
              f"Subject: {subject}\r\n{extra}"
    msg = headers + "\r\n" + body + "\r\n"
    s = smtplib.SMTP("127.0.0.1", inst.port, local_hostname="h.example",
                     timeout=30)
    try:
        s.ehlo()
        s.mail("a@example.com")
        s.rcpt("b@example.com")
        s.rcpt("c@example.com")
        try:
            code, text = s.data(msg.encode())
        except smtplib.SMTPResponseException as e:
            code, text = e.smtp_code, e.smtp_error
        s.quit()
    finally:
        s.close()
    text = text.decode()
    m = re.search(r"queued as ([0-9A-F]+)", text)
    return code, text, m.group(1) if m else None


def log_line(inst, pattern):
    """Wait for a log line matching pattern; return the match."""
    found = []

    def seen():
        found[:] = re.findall(pattern, inst.log(), re.M)
        return bool(found)
    wait_until(seen)
    return found[0]


def postcat(inst, queue_id):
    proc = run("postcat", "-c", inst.etc, "-q", queue_id, env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def exists(inst, queue, queue_id):
    return any(queue_id in files
               for _, _, files in os.walk(inst.queue / queue))


@pytest.mark.parametrize("subject,code,reply,logged", [
    ("reject-default", 550, "5.7.1 message content rejected",
     "5.7.1 message content rejected"),
    ("reject-text", 550, "5.7.1 go away now", "5.7.1 go away now"),
    ("reject-dsn", 550, "5.7.0 custom dsn", "5.7.0 custom dsn"),
    ("reject-4xx", 451, "4.7.1 try later", "4.7.1 try later"),
])
def test_reject(inst, subject, code, reply, logged):
    got_code, text, _ = send(inst, subject)
    assert (got_code, text) == (code, reply)
    log_line(inst, r"^.*: [0-9A-F]+: reject: header Subject: "
             + re.escape(subject) + CTX + ": " + re.escape(logged) + "$")


@pytest.mark.parametrize("subject,suffix", [
    ("discard-default", ""), ("discard-text", ": dropped it")])
def test_discard_leaves_nothing(inst, subject, suffix):
    code, text, queue_id = send(inst, subject)
    assert code == 250 and queue_id, text
    log_line(inst, rf"{queue_id}: discard: header Subject: {subject}"
             + CTX + re.escape(suffix) + "$")
    for queue in ("incoming", "hold", "active", "deferred"):
        assert not exists(inst, queue, queue_id), queue
    assert f"{queue_id}: message-id" not in inst.log()


@pytest.mark.parametrize("subject,suffix", [
    ("hold-default", ""), ("hold-text", ": held it")])
def test_hold_lands_in_hold(inst, subject, suffix):
    code, text, queue_id = send(inst, subject)
    assert code == 250 and queue_id, text
    log_line(inst, rf"{queue_id}: hold: header Subject: {subject}"
             + CTX + re.escape(suffix) + "$")
    wait_until(lambda: exists(inst, "hold", queue_id))
    assert not exists(inst, "incoming", queue_id)
    assert f"Subject: {subject}" in postcat(inst, queue_id)


@pytest.mark.parametrize("subject,word,suffix,present,absent", [
    ("warn-text", "warning", ": warned it", "Subject: warn-text", None),
    ("info-text", "info", ": informed", "Subject: info-text", None),
    ("strip", "strip", ": stripped", None, "Subject: strip"),
    ("prepend", "prepend", ": X-Added: yes",
     "To: b@example.com\nX-Added: yes\nSubject: prepend\n", None),
    ("replace", "replace", ": X-Replaced: done",
     "To: b@example.com\nX-Replaced: done\n", "Subject: replace"),
    ("pass", "pass", ": passed", "X-After-Pass: x", None),
])
def test_logged_actions(inst, subject, word, suffix, present, absent):
    extra = "X-After-Pass: x\r\n" if subject == "pass" else ""
    code, text, queue_id = send(inst, subject, extra)
    assert code == 250 and queue_id, text
    log_line(inst, rf"{queue_id}: {word}: header Subject: {subject}"
             + CTX + re.escape(suffix) + "$")
    content = postcat(inst, queue_id)
    if present:
        assert present in content
    if absent:
        assert absent not in content


def test_ignore_is_silent(inst):
    code, text, queue_id = send(inst, "ignore")
    assert code == 250, text
    assert "Subject: ignore" not in postcat(inst, queue_id)
    assert not re.search(rf"{queue_id}: \w+: header", inst.log())


@pytest.mark.parametrize("subject,warning", [
    ("badprepend", 'warning: bad PREPEND header text "not a header" in '
     'header_checks map -- need "headername: headervalue"'),
    ("unknown", "warning: unknown command in header_checks map: "
     "FROBNICATE now"),
])
def test_bad_result_warns_and_passes(inst, subject, warning):
    code, text, queue_id = send(inst, subject)
    assert code == 250, text
    log_line(inst, re.escape(warning) + "$")
    assert f"Subject: {subject}" in postcat(inst, queue_id)


@pytest.mark.parametrize("subject,word,arg,queue_text", [
    ("redirect", "redirect", "other@example.net",
     "redirect_to=other@example.net"),
    ("filter", "filter", "smtp:[127.0.0.1]:10025",
     "content_filter=smtp:[127.0.0.1]:10025"),
    ("bcc", "bcc", "copy@example.net", "recipient: copy@example.net"),
])
def test_queue_file_records(inst, subject, word, arg, queue_text):
    code, text, queue_id = send(inst, subject)
    assert code == 250, text
    log_line(inst, rf"{queue_id}: {word}: header Subject: {subject}"
             + CTX + ": " + re.escape(arg) + "$")
    content = postcat(inst, queue_id)
    extracted = content.split("*** HEADER EXTRACTED")[1]
    assert queue_text in extracted, content
    if subject == "bcc":
        assert "original_recipient: copy@example.net" in extracted
        assert "dsn_notify_flags: 1" in extracted
    # The envelope recipients stay; REDIRECT is the queue manager's job.
    assert "recipient: b@example.com" in content


def test_folded_and_repeated_headers(inst):
    extra = ("X-Fold: a\r\n\tb\r\nX-Multi: one\r\nX-Multi: two\r\n"
             "X-Sub: hello world\r\n")
    code, text, queue_id = send(inst, "plain", extra)
    assert code == 250, text
    log_line(inst, rf"{queue_id}: warning: header X-Fold: a\?\?b" + CTX
             + ": pcre-fold-matched$")
    log_line(inst, rf"{queue_id}: warning: header X-Multi: one.*multi-one$")
    log_line(inst, rf"{queue_id}: warning: header X-Multi: two.*multi-two$")
    log_line(inst, rf"{queue_id}: warning: header X-Sub: hello world.*"
             r": subst hello world$")
    assert "X-Fold: a\n\tb\n" in postcat(inst, queue_id)


def test_long_header_cut_in_log(inst):
    subject = "long" + "x" * 300 + "END"
    code, text, queue_id = send(inst, subject)
    assert code == 250, text
    line = log_line(inst, rf"{queue_id}: warning: header (Subject: long"
                    r"x*) from ")
    assert len(line) == 200


def test_body_actions(inst):
    body = ("body-warn line\r\n\r\nbody-ignore this\r\nbody-replace this\r\n"
            "body-prepend this\r\nend")
    code, text, queue_id = send(inst, "plain2", body=body)
    assert code == 250, text
    log_line(inst, rf"{queue_id}: warning: body body-warn line" + CTX
             + ": body warned$")
    log_line(inst, rf"{queue_id}: replace: body body-replace this" + CTX
             + ": replaced line$")
    log_line(inst, rf"{queue_id}: prepend: body body-prepend this" + CTX
             + ": prepended line$")
    assert "empty line matched" not in inst.log()
    content = postcat(inst, queue_id)
    assert ("\nbody-warn line\n\nreplaced line\nprepended line\n"
            "body-prepend this\nend\n") in content
    assert "body-ignore" not in content


def test_body_reject(inst):
    code, text, _ = send(inst, "plain3", body="first\r\nbody-reject now\r\nx")
    assert (code, text) == (550, "5.7.1 body says no")
    log_line(inst, r"[0-9A-F]+: reject: body body-reject now" + CTX
             + ": 5.7.1 body says no$")


def test_body_hold_then_discard(inst):
    code, text, queue_id = send(inst, "plain4",
                                body="body-hold x\r\nbody-discard y")
    assert code == 250, text
    log_line(inst, rf"{queue_id}: hold: body body-hold x" + CTX + "$")
    log_line(inst, rf"{queue_id}: discard: body body-discard y" + CTX + "$")
    for queue in ("incoming", "hold"):
        assert not exists(inst, queue, queue_id)


def test_lookup_error_defers(inst):
    # Catastrophic backtracking: PCRE gives up with a matching error.
    code, text, _ = send(inst, "a" * 40 + "!")
    assert (code, text) == (451, "4.3.0 Error: queue file write error")
    log_line(inst, r"warning: [0-9A-F]+: header_checks map lookup problem "
             r"-- message not accepted, try again later$")


@pytest.mark.parametrize("table,reason", [
    ("regexp:{root}/missing", "regexp:{root}/missing is unavailable"),
    ("regexp:{root}/bad",
     "regexp:{root}/bad is unavailable. {root}/bad, line 2: Unmatched ("),
])
def test_broken_table_defers(tmp_path, mail_owner, table, reason):
    from instance import Instance

    root = tmp_path
    (root / "bad").write_text("/^a/ WARN ok\n/^Subject: (bad/ REJECT\n")
    inst = Instance(root / "postern", mail_owner=mail_owner)
    try:
        inst.write_main(mynetworks="127.0.0.0/8",
                        header_checks=table.format(root=root))
        inst.port = free_port()
        inst.write_master("cleanup unix n - n - 0 cleanup\n"
                          f"127.0.0.1:{inst.port} inet n - n - - smtpd\n")
        inst.start()
        wait_until(lambda: can_connect(inst.port))
        code, text, _ = send(inst, "anything")
        assert (code, text) == (451, "4.3.0 Error: queue file write error")
        log = inst.log()
        assert re.search(r"error: header_checks: "
                         + re.escape(reason.format(root=root)), log), log
        assert re.search(r"warning: [0-9A-F]+: header_checks map lookup "
                         r"problem -- message not accepted, try again "
                         r"later", log), log
        assert not any(files for _, _, files in
                       os.walk(inst.queue / "incoming"))
    finally:
        inst.cleanup()
