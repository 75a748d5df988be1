"""System tests for postcat: showing queue files, finding them by queue ID,
and refusing damaged ones.

Queue files are written here in Python, straight from the record format
(src/global/record.h, rec_type.h), so the test does not trust the C writer
it checks. The expected output's shape (banners, labels, offsets, decimal
types, header/body split, time format, messages for bad IDs) was recorded
from Debian's Postfix 3.7 postcat on queue files that Postfix wrote.
Deliberate differences: a damaged file ends with "postcat: fatal: FILE:
offset N: reason" and exit status 1 (Postfix warns and may exit 0), and -s
at an offset that is not a record boundary is refused instead of showing
garbage. If Debian's postcat is installed, one test also runs it on our
file and expects the same output.
"""
import os
import shutil
import subprocess

import pytest

from conftest import command, run

TZ = {"TZ": "UTC"}


# ---- writing queue files from the format ---------------------------------

def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def rec(rtype, data=b""):
    if isinstance(data, str):
        data = data.encode()
    return rtype.encode() + varint(len(data)) + data


def content_records(lines, piece=2048):
    out = b""
    for line in lines:
        line = line.encode() if isinstance(line, str) else line
        while len(line) > piece:
            out += rec("L", line[:piece])
            line = line[piece:]
        out += rec("N", line)
    return out


def queue_file(envelope, lines, extracted=(), fix=None):
    """Bytes of a queue file: envelope is a list of (type, data)."""
    env = b"".join(rec(t, d) for t, d in envelope) + rec("M")
    content = content_records(lines)
    xtra = rec("X") + b"".join(rec(t, d) for t, d in extracted) + rec("E")
    size_len = 2 + 95
    content_offset = size_len + len(env)
    rcpts = sum(1 for t, _ in list(envelope) + list(extracted) if t in "RD/")
    fields = [len(content), content_offset, rcpts, 0, len(content), 0]
    for index, value in (fix or {}).items():
        fields[index] = value
    size = " ".join("%15d" % f for f in fields)
    return rec("C", size) + env + content + xtra


ARRIVAL = "1795369435 799460"        # Sun Nov 22 17:43:55 2026 UTC
ENVELOPE = [
    ("T", ARRIVAL),
    ("A", "create_time=1795369436"),
    ("A", "log_ident=C486BA740BC"),
    ("A", "rewrite_context=local"),
    ("i", "xyz"),
    ("<", "2"),
    ("S", "sender@example.com"),
    ("A", "client_name=localhost"),
    ("A", "client_address=127.0.0.1"),
    ("W", "%15d" % 1795373035),
    ("n", "6"),
    ("o", "rfc822;orig@example.org"),
    ("O", "rcpt1@example.org"),
    ("R", "rcpt1@example.org"),
    ("D", "rcpt2@example.org"),
]
LINES = [
    "Received: from client.example (localhost [127.0.0.1])",
    "\tby test.example (Postern) with ESMTP id C486BA740BC;",
    "Subject: smtp",
    "From: sender@example.com",
    "",
    "hello",
    "x" * 3000,
    "Not: a header any more",
]
EXTRACTED = [("A", "foo=bar"), ("R", "extra@example.net")]

ENVELOPE_TEXT = """\
message_size:            3190             367               3               0            3190               0
message_arrival_time: Sun Nov 22 17:43:55 2026
create_time: Sun Nov 22 17:43:56 2026
named_attribute: log_ident=C486BA740BC
named_attribute: rewrite_context=local
dsn_envelope_id: xyz
dsn_return_flags: 2
sender: sender@example.com
named_attribute: client_name=localhost
named_attribute: client_address=127.0.0.1
warning_message_time: Sun Nov 22 18:43:55 2026
dsn_notify_flags: 6
dsn_original_recipient: rfc822;orig@example.org
original_recipient: rcpt1@example.org
recipient: rcpt1@example.org
done_recipient: rcpt2@example.org
"""
HEADER_TEXT = """\
Received: from client.example (localhost [127.0.0.1])
\tby test.example (Postern) with ESMTP id C486BA740BC;
Subject: smtp
From: sender@example.com
"""
BODY_TEXT = "\nhello\n" + "x" * 3000 + "\nNot: a header any more\n"
EXTRACTED_TEXT = """\
named_attribute: foo=bar
recipient: extra@example.net
"""


def full_text(name):
    return (f"*** ENVELOPE RECORDS {name} ***\n" + ENVELOPE_TEXT
            + f"*** MESSAGE CONTENTS {name} ***\n" + HEADER_TEXT + BODY_TEXT
            + f"*** HEADER EXTRACTED {name} ***\n" + EXTRACTED_TEXT
            + f"*** MESSAGE FILE END {name} ***\n")


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample"
    path.write_bytes(queue_file(ENVELOPE, LINES, EXTRACTED))
    path.chmod(0o700)
    return path


def postcat(confdir, *args, input=None):
    return run("postcat", "-c", confdir, *args, input=input, env=TZ)


# ---- showing a file ------------------------------------------------------

def test_default_shows_everything(confdir, sample):
    proc = postcat(confdir, sample)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == full_text(sample)


def test_envelope_only(confdir, sample):
    proc = postcat(confdir, "-e", sample)
    assert proc.returncode == 0
    assert proc.stdout == (
        f"*** ENVELOPE RECORDS {sample} ***\n" + ENVELOPE_TEXT
        + f"*** MESSAGE CONTENTS {sample} ***\n"
        + f"*** HEADER EXTRACTED {sample} ***\n" + EXTRACTED_TEXT
        + f"*** MESSAGE FILE END {sample} ***\n")


def test_headers_and_body(confdir, sample):
    assert postcat(confdir, "-h", sample).stdout == HEADER_TEXT
    assert postcat(confdir, "-b", sample).stdout == BODY_TEXT
    assert postcat(confdir, "-bh", sample).stdout == HEADER_TEXT + BODY_TEXT
    proc = postcat(confdir, "-eh", sample)
    assert proc.stdout == (
        f"*** ENVELOPE RECORDS {sample} ***\n" + ENVELOPE_TEXT
        + f"*** MESSAGE CONTENTS {sample} ***\n" + HEADER_TEXT
        + f"*** HEADER EXTRACTED {sample} ***\n" + EXTRACTED_TEXT
        + f"*** MESSAGE FILE END {sample} ***\n")


def test_offsets_and_decimal_types(confdir, sample):
    proc = postcat(confdir, "-o", "-h", sample)
    assert proc.stdout.splitlines() == [
        "      367 Received: from client.example (localhost [127.0.0.1])",
        "      422 \tby test.example (Postern) with ESMTP id C486BA740BC;",
        "      477 Subject: smtp",
        "      492 From: sender@example.com",
    ]
    # -o puts every record on a line of its own, pieces of a long line too.
    body = postcat(confdir, "-ob", sample).stdout.splitlines()
    assert body == [
        "      518 ", "      520 hello", "      527 " + "x" * 2048,
        "     2578 " + "x" * 952, "     3533 Not: a header any more"]
    # -d alone keeps a long line whole, with a type before each piece.
    body = postcat(confdir, "-db", sample).stdout.splitlines()
    assert body == [" 78 ", " 78 hello",
                    " 76 " + "x" * 2048 + " 78 " + "x" * 952,
                    " 78 Not: a header any more"]
    env = postcat(confdir, "-od", "-e", sample).stdout.splitlines()
    assert env[0] == f"*** ENVELOPE RECORDS {sample} ***"
    assert env[1].startswith("        0  67 message_size:")
    assert env[2] == "       97  84 message_arrival_time: Sun Nov 22 17:43:55 2026"
    assert env[-5] == f"      365  77 *** MESSAGE CONTENTS {sample} ***"
    assert env[-4] == f"     3557  88 *** HEADER EXTRACTED {sample} ***"
    assert env[-1] == f"     3587  69 *** MESSAGE FILE END {sample} ***"


def test_stdin(confdir, sample):
    proc = subprocess.run([command("postcat"), "-c", str(confdir)],
                          stdin=open(sample, "rb"), capture_output=True,
                          env=dict(os.environ, **TZ), timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.decode() == full_text("stdin")


def test_skip_to_offset(confdir, sample):
    proc = postcat(confdir, "-s", "365", sample)
    assert proc.returncode == 0
    assert proc.stdout == (
        f"*** MESSAGE CONTENTS {sample} ***\n" + HEADER_TEXT + BODY_TEXT
        + f"*** HEADER EXTRACTED {sample} ***\n" + EXTRACTED_TEXT
        + f"*** MESSAGE FILE END {sample} ***\n")
    assert postcat(confdir, "-s", "0", sample).stdout == full_text(sample)
    # Past the end: nothing to show.
    proc = postcat(confdir, "-s", "99999", sample)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    proc = postcat(confdir, "-s", "abc", sample)
    assert (proc.returncode, proc.stderr) == (1, "postcat: fatal: bad offset: abc\n")
    proc = postcat(confdir, "-s", "-5", sample)
    assert proc.stderr == "postcat: fatal: bad offset: -5\n"
    # Inside a record: refused, not shown as garbage.
    proc = postcat(confdir, "-s", "366", sample)
    assert proc.returncode == 1
    assert proc.stderr == (f"postcat: fatal: {sample}: offset 366: unknown "
                           "record type 0x00\n")


def test_incomplete_file_is_still_shown(confdir, tmp_path):
    path = tmp_path / "busy"
    path.write_bytes(queue_file(ENVELOPE, LINES, EXTRACTED))
    path.chmod(0o600)
    proc = postcat(confdir, path)
    assert (proc.returncode, proc.stdout) == (0, full_text(path))


# ---- finding files by queue ID -------------------------------------------

@pytest.fixture
def queue(tmp_path, confdir):
    qdir = tmp_path / "queue"
    for name in ("maildrop", "incoming", "active", "deferred", "hold",
                 "saved"):
        (qdir / name).mkdir(parents=True)
    confdir.write_main(f"queue_directory = {qdir}\n")
    return qdir


def test_queue_id_lookup(confdir, queue):
    data = queue_file(ENVELOPE, LINES, EXTRACTED)
    (queue / "incoming" / "C486BA740BC").write_bytes(data)
    # deferred is hashed by default, one level.
    (queue / "deferred" / "D").mkdir()
    (queue / "deferred" / "D" / "D7129A74661").write_bytes(data)
    proc = postcat(confdir, "-q", "C486BA740BC")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == full_text("incoming/C486BA740BC")
    proc = postcat(confdir, "-q", "-h", "D7129A74661", "C486BA740BC")
    assert proc.stdout == HEADER_TEXT + HEADER_TEXT
    proc = postcat(confdir, "-qe", "D7129A74661")
    assert proc.stdout.splitlines()[0] == \
        "*** ENVELOPE RECORDS deferred/D/D7129A74661 ***"


def test_queue_id_lookup_long_ids_and_hashing(confdir, queue):
    confdir.write_main(f"queue_directory = {queue}\n"
                       "hash_queue_names = incoming, deferred\n"
                       "hash_queue_depth = 2\n")
    # As Debian's Postfix placed this long ID: microseconds D7129 in hex.
    (queue / "incoming" / "D" / "7").mkdir(parents=True)
    (queue / "incoming" / "D" / "7" / "4jXbdg6Fn5z1bcjX").write_bytes(
        queue_file(ENVELOPE, LINES, EXTRACTED))
    proc = postcat(confdir, "-qe", "4jXbdg6Fn5z1bcjX")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == \
        "*** ENVELOPE RECORDS incoming/D/7/4jXbdg6Fn5z1bcjX ***"
    (queue / "maildrop" / "4jXbdh6GPWz1bcl6").write_bytes(
        queue_file(ENVELOPE, LINES, EXTRACTED))
    proc = postcat(confdir, "-qh", "4jXbdh6GPWz1bcl6")
    assert (proc.returncode, proc.stdout) == (0, HEADER_TEXT)


@pytest.mark.parametrize("bad", ["../etc/passwd", "..", "", "ABC/DEF",
                                 "872b5a74a96", "4jXbdg6Fn5zzzzz",
                                 "A" * 300, "C486BA740BC\n"])
def test_queue_id_rejects_bad_ids(confdir, queue, bad):
    proc = postcat(confdir, "-q", bad)
    assert proc.returncode == 1
    # Control characters are never written to the log as they are.
    shown = bad.replace("\n", "?")
    assert proc.stderr == f"postcat: fatal: bad mail queue ID: {shown}\n"
    assert proc.stdout == ""


def test_queue_id_not_found(confdir, queue):
    proc = postcat(confdir, "-q", "ABCDEF12345")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == ("postcat: fatal: open queue file ABCDEF12345: "
                           "No such file or directory\n")


def test_queue_id_refuses_symlink(confdir, queue, sample):
    os.symlink(sample, queue / "hold" / "ABCDEF12345")
    proc = postcat(confdir, "-q", "ABCDEF12345")
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        f"postcat: fatal: open {queue}/hold/ABCDEF12345: ")


# ---- damaged files -------------------------------------------------------

GOOD = queue_file([("T", "1 2"), ("S", "a@b"), ("R", "c@d")], ["hi"])


@pytest.mark.parametrize("data, shown, reason", [
    (GOOD[:-2], 7, "offset 120: unexpected end of file in the extracted "
     "segment (no end record)"),
    (GOOD[:-1], 7, "offset 120: unexpected end of file in record header"),
    (GOOD[:116], 6, "offset 114: truncated record 'N': 2 data bytes "
     "expected, 0 present"),
    (GOOD + b"junk", 8, "offset 122: data after the end record"),
    (GOOD[:107] + rec("Q", "x") + GOOD[107:], 4,
     "offset 107: unknown record type 'Q'"),
    (GOOD[:107] + b"R\x80\x00" + GOOD[110:], 4,
     "offset 107: malformed record length"),
    (GOOD[:107] + rec("N", "hi") + GOOD[107:], 4,
     "offset 107: unexpected content_line record in the envelope segment"),
    (queue_file([("T", "1 2"), ("S", "a@b"), ("R", "c@d")], ["hi"],
                fix={2: 7}), 7,
     "offset 0: size record says 7 recipients, but the file has 1"),
    (b"", 1, "offset 0: not a queue file (empty)"),
    (b"Subject: hello\n", 1, "offset 0: not a queue file (truncated "
     "record 'S': 117 data bytes expected, 13 present)"),
    (b"hello world\n", 1,
     "offset 0: not a queue file (unknown record type 'h')"),
    (rec("T", "1 2") + rec("S", "a@b"), 1,
     "offset 0: not a queue file (first record 'T' is not a size record)"),
])
def test_damaged_files(confdir, tmp_path, data, shown, reason):
    path = tmp_path / "bad"
    path.write_bytes(data)
    proc = postcat(confdir, "-e", path)
    assert proc.returncode == 1
    assert proc.stderr == f"postcat: fatal: {path}: {reason}\n"
    # The records before the damage were shown, banners included.
    assert len(proc.stdout.splitlines()) == shown


def test_nonexistent_file(confdir, tmp_path):
    proc = postcat(confdir, tmp_path / "nope")
    assert proc.returncode == 1
    assert proc.stderr == (f"postcat: fatal: open {tmp_path}/nope: No such "
                           "file or directory\n")


# ---- options and configuration -------------------------------------------

USAGE = ("postcat: fatal: usage: postcat [-b (body text)] [-c config_dir] "
         "[-d (decimal record type)] [-e (envelope records)] [-h (header "
         "text)] [-q (access queue)] [-v] [file(s)...]\n")


def test_usage(confdir):
    proc = postcat(confdir, "-n")
    assert proc.returncode == 1
    assert proc.stderr == "postcat: invalid option -- 'n'\n" + USAGE
    proc = postcat(confdir, "-s")
    assert proc.stderr == "postcat: option requires an argument -- 's'\n" + USAGE


def test_missing_config(tmp_path, sample):
    proc = run("postcat", "-c", tmp_path / "nodir", sample)
    assert proc.returncode == 1
    assert proc.stderr == (f"postcat: fatal: open {tmp_path}/nodir/main.cf: "
                           "No such file or directory\n")


def test_same_output_as_debian_postcat(confdir, sample):
    postfix_postcat = shutil.which("postcat", path="/usr/sbin")
    if postfix_postcat is None:
        pytest.skip("Debian's postcat is not installed")
    for flags in ([], ["-o"], ["-d"], ["-e"], ["-h"], ["-b"], ["-bh"],
                  ["-od"], ["-s", "365"]):
        ours = postcat(confdir, *flags, sample)
        theirs = subprocess.run([postfix_postcat, "-c", str(confdir), *flags,
                                 str(sample)], capture_output=True, text=True,
                                env=dict(os.environ, **TZ), timeout=60)
        assert (ours.returncode, ours.stdout) == (theirs.returncode,
                                                  theirs.stdout), flags
