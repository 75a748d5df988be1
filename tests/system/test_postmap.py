"""System tests for postmap: building, querying, listing and deleting.

Every expected answer, message and exit status below was recorded from
Debian's Postfix 3.7 postmap on the same input (golden data); the tests
never run Postfix itself. Where Postern deliberately differs, the test says
so: hash:/btree: files are LMDB files named NAME.db, and a pattern table
with a bad rule fails to open instead of skipping the rule.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import command, run

SAMPLE = "Foo bar\nfoo baz\nKey  Value With Spaces\nUPPER Val\n"


def pm(confdir, *args, input=None):
    return run("postmap", "-c", confdir, *args, input=input)


def warnings(proc):
    return [line for line in proc.stderr.splitlines() if line]


@pytest.fixture
def table(confdir):
    """A source file with the sample entries, built as lmdb."""
    path = confdir.file("t", SAMPLE)
    proc = pm(confdir, f"lmdb:{path}")
    assert proc.returncode == 0, proc.stderr
    return path


# ---- building and querying -----------------------------------------------

def test_default_type_is_hash_in_name_db(confdir):
    path = confdir.file("t", SAMPLE)
    proc = pm(confdir, path)
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert warnings(proc) == [f'postmap: warning: {path}.db: duplicate entry: "foo"']
    assert (confdir.path / "t.db").exists()
    assert not (confdir.path / "t.lmdb").exists()
    for key, value in [("foo", "bar"), ("FOO", "bar"), ("Key", "Value With Spaces"),
                       ("upper", "Val")]:
        proc = pm(confdir, "-q", key, path)
        assert (proc.returncode, proc.stdout) == (0, value + "\n")
    proc = pm(confdir, "-q", "nope", f"hash:{path}")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "")


def test_default_database_type_from_main_cf(confdir):
    confdir.write_main("default_database_type = lmdb\n")
    path = confdir.file("t", "a b\n")
    assert pm(confdir, path).returncode == 0
    assert (confdir.path / "t.lmdb").exists()
    assert pm(confdir, "-q", "a", path).stdout == "b\n"


def test_lmdb_listing_and_duplicate_warning(confdir):
    path = confdir.file("t", SAMPLE)
    proc = pm(confdir, f"lmdb:{path}")
    assert warnings(proc) == [f'postmap: warning: lmdb:{path}: duplicate entry: "foo"']
    proc = pm(confdir, "-s", f"lmdb:{path}")
    assert proc.returncode == 0
    assert proc.stdout == "foo\tbar\nkey\tValue With Spaces\nupper\tVal\n"


@pytest.mark.parametrize("flag,listing", [
    ("-r", "foo\tbaz\nkey\tValue With Spaces\nupper\tVal\n"),
    ("-w", "foo\tbar\nkey\tValue With Spaces\nupper\tVal\n"),
    ("-f", "Foo\tbar\nKey\tValue With Spaces\nUPPER\tVal\nfoo\tbaz\n"),
])
def test_duplicate_and_fold_options(confdir, flag, listing):
    path = confdir.file("t", SAMPLE)
    proc = pm(confdir, flag, f"lmdb:{path}")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert pm(confdir, "-s", f"lmdb:{path}").stdout == listing


def test_fold_on_query(confdir):
    path = confdir.file("t", SAMPLE)
    pm(confdir, "-f", f"lmdb:{path}")
    assert pm(confdir, "-q", "Foo", f"lmdb:{path}").stdout == "baz\n"
    assert pm(confdir, "-fq", "Foo", f"lmdb:{path}").stdout == "bar\n"
    assert pm(confdir, "-fq", "UPPER", f"lmdb:{path}").stdout == "Val\n"
    assert pm(confdir, "-q", "UPPER", f"lmdb:{path}").returncode == 1


def test_query_stdin(confdir, table):
    proc = pm(confdir, "-q", "-", f"lmdb:{table}", input="foo\nnope\nUPPER\n  key  \n")
    assert (proc.returncode, proc.stdout) == (0, "foo\tbar\nUPPER\tVal\n")
    proc = pm(confdir, "-q", "-", f"lmdb:{table}", input="nope\n")
    assert (proc.returncode, proc.stdout) == (1, "")


def test_query_several_maps(confdir):
    m1 = confdir.file("m1", "a 1\nb 2\n")
    m2 = confdir.file("m2", "b 3\nc 4\n")
    assert pm(confdir, f"lmdb:{m1}", f"lmdb:{m2}").returncode == 0
    proc = pm(confdir, "-q", "-", f"lmdb:{m1}", f"lmdb:{m2}", input="a\nb\nc\nd\n")
    assert (proc.returncode, proc.stdout) == (0, "a\t1\nb\t2\nc\t4\n")
    assert pm(confdir, "-q", "c", f"lmdb:{m1}", f"lmdb:{m2}").stdout == "4\n"
    # -s lists the first table only, as Postfix does.
    assert pm(confdir, "-s", f"lmdb:{m1}", f"lmdb:{m2}").stdout == "a\t1\nb\t2\n"
    # -d removes one entry per table.
    assert pm(confdir, "-d", "b", f"lmdb:{m1}", f"lmdb:{m2}").returncode == 0
    assert pm(confdir, "-s", f"lmdb:{m2}").stdout == "c\t4\n"
    proc = pm(confdir, "-d", "-", f"lmdb:{m1}", f"lmdb:{m2}", input="a\nc\nzz\n")
    assert proc.returncode == 0
    assert pm(confdir, "-s", f"lmdb:{m1}").stdout == ""
    assert pm(confdir, "-d", "-", f"lmdb:{m1}", input="zz\n").returncode == 1


def test_delete(confdir, table):
    assert pm(confdir, "-d", "FOO", f"lmdb:{table}").returncode == 0
    assert pm(confdir, "-d", "foo", f"lmdb:{table}").returncode == 1
    assert pm(confdir, "-s", f"lmdb:{table}").stdout == \
        "key\tValue With Spaces\nupper\tVal\n"


def test_incremental(confdir, table):
    proc = pm(confdir, "-i", f"lmdb:{table}", input="new val\nFOO other\n")
    assert proc.returncode == 0
    assert warnings(proc) == [f'postmap: warning: lmdb:{table}: duplicate entry: "foo"']
    assert pm(confdir, "-s", f"lmdb:{table}").stdout == \
        "foo\tbar\nkey\tValue With Spaces\nnew\tval\nupper\tVal\n"
    pm(confdir, "-ir", f"lmdb:{table}", input="FOO other\n")
    assert pm(confdir, "-q", "foo", f"lmdb:{table}").stdout == "other\n"
    # An alias-style line draws Postfix's hint, naming stdin.
    proc = pm(confdir, "-i", f"lmdb:{table}", input="x: y\n")
    assert warnings(proc) == ['postmap: warning: stdin, line 1: record is in '
                              '"key: value" format; is this an alias file?']
    # -i creates a missing table.
    fresh = confdir.path / "fresh"
    assert pm(confdir, "-i", f"lmdb:{fresh}", input="a b\n").returncode == 0
    assert pm(confdir, "-q", "a", f"lmdb:{fresh}").stdout == "b\n"


def test_nul_options(confdir):
    path = confdir.file("nn", "a 1\n")
    pm(confdir, "-n", f"lmdb:{path}")
    assert pm(confdir, "-N", "-q", "a", f"lmdb:{path}").returncode == 1
    assert pm(confdir, "-n", "-q", "a", f"lmdb:{path}").stdout == "1\n"
    assert pm(confdir, "-q", "a", f"lmdb:{path}").stdout == "1\n"
    pm(confdir, f"lmdb:{path}")
    assert pm(confdir, "-n", "-q", "a", f"lmdb:{path}").returncode == 1
    assert pm(confdir, "-N", "-q", "a", f"lmdb:{path}").stdout == "1\n"


def test_source_syntax(confdir):
    text = ('"a b" v1\n"q\\"x" v2\n"back\\\\slash" v3\n"unterminated v4\n'
            '"x"y v5\n"" v6\n"C D" v7\nplain"q v8\n"esc\\n" v9\n'
            'a\\ b v10\nk "v a l"\nk2\t\t v2  \nx\ncont one\n   two\n  \n\tthree \n'
            'colon: v\n')
    path = confdir.file("q", text)
    proc = pm(confdir, f"lmdb:{path}")
    assert proc.returncode == 0
    assert warnings(proc) == [
        f"postmap: warning: {path}, line 4: unbalanced '\"' in '\"unterminated v4'"
        " -- ignoring this line",
        f"postmap: warning: {path}, line 8: unbalanced '\"' in 'plain\"q v8'"
        " -- ignoring this line",
        f"postmap: warning: {path}, line 13: expected format: key whitespace value",
        f'postmap: warning: {path}, line 18: record is in "key: value" format;'
        " is this an alias file?",
    ]
    assert pm(confdir, "-s", f"lmdb:{path}").stdout == (
        '""\tv6\n"a b"\tv1\n"back\\\\slash"\tv3\n"c d"\tv7\n"esc\\n"\tv9\n'
        '"q\\"x"\tv2\n"x"y\tv5\na\\ b\tv10\ncolon:\tv\ncont\tone   two\tthree\n'
        'k\t"v a l"\nk2\tv2\n')
    assert pm(confdir, "-q", '"A B"', f"lmdb:{path}").stdout == "v1\n"


def test_base64_files(confdir):
    (confdir.path / "f1").write_text("hello\nworld")
    (confdir.path / "f2").write_text("second\n")
    src = confdir.file("fsrc", f"k1 {confdir.path}/f1\nk2 {confdir.path}/f1, "
                               f"{confdir.path}/f2\nk3 {confdir.path}/none\n")
    proc = pm(confdir, "-F", f"lmdb:{src}")
    assert proc.returncode == 0
    assert warnings(proc) == [
        f"postmap: warning: {src}, line 3: open {confdir.path}/none: "
        "No such file or directory: skipping this entry"]
    assert pm(confdir, "-s", f"lmdb:{src}").stdout == \
        "k1\taGVsbG8Kd29ybGQ=\nk2\taGVsbG8Kd29ybGQKc2Vjb25kCg==\n"
    assert pm(confdir, "-Fq", "k2", f"lmdb:{src}").stdout == "hello\nworld\nsecond\n\n"
    bad = confdir.file("b64", "k YWJj\nbad @@@\n")
    pm(confdir, f"lmdb:{bad}")
    proc = pm(confdir, "-Fq", "bad", f"lmdb:{bad}")
    assert proc.returncode == 1
    assert warnings(proc) == [
        f"postmap: warning: table lmdb:{bad}: key bad: malformed BASE64 value: @@@",
        f"postmap: fatal: table lmdb:{bad}: query error"]
    proc = pm(confdir, "-Fs", f"lmdb:{bad}")
    assert (proc.returncode, proc.stdout) == (0, "k\tabc\n")


MESSAGE = "Subject: hello\n world\nFrom: me\n\nbody line\nfoo\n"
HEADER_RULES = ("/^Subject:/ HDR\n/^From:/ FROM\n/^foo/ BODYFOO\n/^$/ EMPTY\n"
                "/^body/ B\n")


@pytest.mark.parametrize("flags,stdin,expect", [
    ("-h", MESSAGE, "Subject: hello\n world\tHDR\nFrom: me\tFROM\n"),
    ("-b", MESSAGE, "\tEMPTY\nbody line\tB\nfoo\tBODYFOO\n"),
    ("-hb", MESSAGE, "Subject: hello\n world\tHDR\nFrom: me\tFROM\n\tEMPTY\n"
                     "body line\tB\nfoo\tBODYFOO\n"),
    ("-hb", "Subject: x\nnot a header\nfoo\n", "Subject: x\tHDR\n\tEMPTY\nfoo\tBODYFOO\n"),
    ("-b", "Subject: x\n\n\nfoo\n", "\tEMPTY\n\tEMPTY\nfoo\tBODYFOO\n"),
])
def test_header_and_body_queries(confdir, flags, stdin, expect):
    rules = confdir.file("hre", HEADER_RULES)
    proc = pm(confdir, flags, "-q", "-", f"regexp:{rules}", input=stdin)
    assert (proc.returncode, proc.stdout) == (0, expect), proc.stderr


# ---- file handling ---------------------------------------------------------

def test_rebuild_is_atomic_for_readers(confdir):
    """postmap -q during a rebuild sees the old table or the new one."""
    filler = "".join(f"key{i} {'x' * 200}\n" for i in range(60000))
    path = confdir.file("big", "probe v1\n" + filler)
    assert pm(confdir, f"lmdb:{path}").returncode == 0
    path.write_text("probe v2\n" + filler)
    builder = subprocess.Popen([command("postmap"), "-c", str(confdir), f"lmdb:{path}"],
                               stderr=subprocess.PIPE, text=True)
    answers = set()
    while builder.poll() is None:
        proc = pm(confdir, "-q", "probe", f"lmdb:{path}")
        assert proc.returncode == 0, proc.stderr
        answers.add(proc.stdout)
    assert builder.wait() == 0, builder.stderr.read()
    builder.stderr.close()
    assert answers <= {"v1\n", "v2\n"}
    assert pm(confdir, "-q", "probe", f"lmdb:{path}").stdout == "v2\n"
    assert sorted(p.name for p in confdir.path.iterdir()) == \
        ["big", "big.lmdb", "main.cf", "master.cf"]


def test_map_grows_past_lmdb_map_size(confdir):
    confdir.write_main("lmdb_map_size = 65536\n")
    path = confdir.file("big", "".join(f"k{i} {'v' * 500}\n" for i in range(3000)))
    proc = pm(confdir, f"lmdb:{path}")
    assert proc.returncode == 0, proc.stderr
    assert pm(confdir, "-q", "k2999", f"lmdb:{path}").stdout == "v" * 500 + "\n"


@pytest.mark.parametrize("source_mode,flags,expect", [
    (0o755, [], 0o644), (0o666, [], 0o644), (0o400, [], 0o600),
    (0o640, [], 0o640), (0o000, [], 0o600), (0o600, ["-p"], 0o644),
])
def test_new_file_mode_follows_source(confdir, source_mode, flags, expect):
    path = confdir.file("pm", "a b\n")
    os.chmod(path, source_mode)
    if source_mode == 0 and os.geteuid() != 0:
        pytest.skip("an unreadable source cannot be read by an ordinary user")
    old = os.umask(0o077)
    try:
        proc = pm(confdir, *flags, f"lmdb:{path}")
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    assert os.stat(f"{path}.lmdb").st_mode & 0o7777 == expect


def test_rebuild_keeps_existing_mode(confdir):
    path = confdir.file("pm", "a b\n")
    pm(confdir, f"lmdb:{path}")
    os.chmod(f"{path}.lmdb", 0o600)
    pm(confdir, f"lmdb:{path}")
    assert os.stat(f"{path}.lmdb").st_mode & 0o7777 == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as another user")
def test_root_builds_as_source_owner(confdir):
    # nobody must reach the directory, so not under pytest's private tmp.
    directory = tempfile.mkdtemp(prefix="postmap-owner.")
    try:
        os.chmod(directory, 0o755)
        path = f"{directory}/own"
        with open(path, "w") as fp:
            fp.write("a b\n")
        os.chown(path, 65534, 65534)
        proc = pm(confdir, f"lmdb:{path}")
        assert proc.returncode == 1
        assert proc.stderr == \
            f"postmap: fatal: open database {path}.lmdb: Permission denied\n"
        proc = pm(confdir, "-o", f"lmdb:{path}")
        assert proc.returncode == 0
        assert os.stat(f"{path}.lmdb").st_uid == 0
        os.chmod(directory, 0o777)
        os.unlink(f"{path}.lmdb")
        assert pm(confdir, f"lmdb:{path}").returncode == 0
        assert os.stat(f"{path}.lmdb").st_uid == 65534
    finally:
        shutil.rmtree(directory)


# ---- errors -------------------------------------------------------------

def test_missing_source(confdir):
    proc = pm(confdir, f"lmdb:{confdir.path}/missing")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postmap: fatal: open {confdir.path}/missing: No such file or directory\n")


def test_unreadable_source(confdir):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = confdir.file("secret", "a b\n")
    os.chmod(path, 0)
    proc = pm(confdir, f"lmdb:{path}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postmap: fatal: open {path}: Permission denied\n")


@pytest.mark.parametrize("type,suffix", [("lmdb", ".lmdb"), ("hash", ".db"), ("btree", ".db")])
def test_missing_table(confdir, type, suffix):
    name = f"{confdir.path}/missing"
    for args in (["-q", "x"], ["-s"]):
        proc = pm(confdir, *args, f"{type}:{name}")
        assert (proc.returncode, proc.stdout) == (1, "")
        assert proc.stderr == \
            f"postmap: fatal: open database {name}{suffix}: No such file or directory\n"


@pytest.mark.parametrize("type,suffix", [("lmdb", ".lmdb"), ("hash", ".db")])
def test_corrupt_table(confdir, type, suffix):
    junk = bytes((i * 7 + 3) % 256 for i in range(20000))
    name = confdir.path / "junk"
    (confdir.path / f"junk{suffix}").write_bytes(junk)
    for args in (["-q", "x"], ["-s"], ["-d", "x"]):
        proc = pm(confdir, *args, f"{type}:{name}")
        assert proc.returncode == 1
        assert proc.stderr == (f"postmap: fatal: open database {name}{suffix}: "
                               "MDB_INVALID: File is not an LMDB file\n")
    (confdir.path / f"junk{suffix}").write_bytes(b"")
    proc = pm(confdir, "-q", "x", f"{type}:{name}")
    assert proc.returncode == 1
    assert "not an LMDB file" in proc.stderr and f"junk{suffix}" in proc.stderr


def test_texthash_missing_and_read_only(confdir):
    name = f"{confdir.path}/missing"
    proc = pm(confdir, "-q", "x", f"texthash:{name}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postmap: fatal: open database {name}: No such file or directory\n")
    th = confdir.file("th", "a 1\n")
    proc = pm(confdir, "-d", "a", f"texthash:{th}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postmap: fatal: texthash:{th} map requires O_RDONLY access mode\n")
    proc = pm(confdir, f"texthash:{th}")
    assert (proc.returncode, proc.stderr) == \
        (1, "postmap: fatal: unsupported dictionary type: texthash does not "
            "support bulk-mode creation.\n")
    proc = pm(confdir, "-q", "a", f"foo:{th}")
    assert (proc.returncode, proc.stderr) == (1, "postmap: fatal: unsupported dictionary type: foo\n")


USAGE = ("postmap: fatal: usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] "
         "[-d key] [-q key] [map_type:]file...\n")


@pytest.mark.parametrize("args,stderr", [
    ([], USAGE),
    (["-q", "x"], USAGE),
    (["-Z", "x"], "postmap: invalid option -- 'Z'\n" + USAGE),
    (["-q"], "postmap: option requires an argument -- 'q'\n" + USAGE),
    (["-q", "x", "-s", "t"], "postmap: fatal: specify only one of -s or -q or -d\n"),
    (["-q", "x", "-d", "x", "t"], "postmap: fatal: specify only one of -s -q or -d\n"),
    (["-h", "-q", "x", "t"], 'postmap: fatal: specify -b -h or -m only with "-q -"\n'),
    (["-b", "t"], 'postmap: fatal: specify -b -h or -m only with "-q -"\n'),
])
def test_usage_errors(confdir, args, stderr):
    proc = pm(confdir, *args)
    assert (proc.returncode, proc.stderr) == (1, stderr)


def test_missing_config_dir(tmp_path):
    proc = run("postmap", "-c", tmp_path / "nonexist", "-q", "x", "static:y")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postmap: fatal: open {tmp_path}/nonexist/main.cf: No such file or directory\n")


# ---- every table type (answers recorded from Postfix 3.7) -------------------

REGEXP = r"""# regexp golden
/^From: (.*)@example\.com$/	FROM $1
/^Subject: .*viagra/i	REJECT spam
!/^X-/	NOTX
if /^X-/
/^X-Mailer: (.*)/	MAILER ${1}
!/^X-Foo/	NOTFOO
endif
/^(a)(b)(c)$/	$3$2$1 $$
"""

PCRE = r"""/^From: (.*)@example\.com$/	FROM $1
/^Subject: .*viagra/i	REJECT spam
/^(?<user>[a-z]+)\+(.*)@/	PLUS $1 $2
if !/^X-/
/^nonx (\d+)$/	NUM $1
endif
/^X-(?:Mailer|Agent): (.+)$/x	AGENT $1
"""

CIDR = """# cidr golden
192.168.1.0/24	LAN
192.168.0.0/16	WIDE
10.0.0.1	ONE
!10.0.0.0/8	NOT10
2001:db8::/32	V6DOC
::1	V6LOOP
fe80::/10	LINKLOCAL
"""

GOLDEN = [
    ("regexp", REGEXP, "From: joe@example.com", "FROM joe"),
    ("regexp", REGEXP, "Subject: buy VIAGRA now", "NOTX"),
    ("regexp", REGEXP, "X-Mailer: mutt", "MAILER mutt"),
    ("regexp", REGEXP, "X-Foo: x", None),
    ("regexp", REGEXP, "plain", "NOTX"),
    ("regexp", REGEXP, "X-Other: y", "NOTFOO"),
    ("pcre", PCRE, "From: joe@example.com", "FROM joe"),
    ("pcre", PCRE, "Subject: buy VIAGRA now", None),
    ("pcre", PCRE, "bob+tag@x", "PLUS bob tag"),
    ("pcre", PCRE, "nonx 42", "NUM 42"),
    ("pcre", PCRE, "X-Agent: foo", "AGENT  foo"),
    ("pcre", PCRE, "X-Other: y", None),
    ("cidr", CIDR, "192.168.1.5", "LAN"),
    ("cidr", CIDR, "192.168.2.5", "WIDE"),
    ("cidr", CIDR, "10.0.0.1", "ONE"),
    ("cidr", CIDR, "10.1.2.3", None),
    ("cidr", CIDR, "11.0.0.1", "NOT10"),
    ("cidr", CIDR, "2001:db8::1", "V6DOC"),
    ("cidr", CIDR, "2001:DB8:0:0::5", "V6DOC"),
    ("cidr", CIDR, "::1", "V6LOOP"),
    ("cidr", CIDR, "fe80::1", "LINKLOCAL"),
    ("cidr", CIDR, "2001:db9::1", None),
    ("cidr", CIDR, "not-an-ip", None),
    ("texthash", "k1 v1\nK2 v2\n", "K1", "v1"),
    ("texthash", "k1 v1\nK2 v2\n", "k2", "v2"),
    ("lmdb", "k1 v1\nK2 v2\n", "K2", "v2"),
]


@pytest.mark.parametrize("type,text,key,value", GOLDEN)
def test_golden_file_tables(confdir, type, text, key, value):
    path = confdir.file("table", text)
    if type == "lmdb":
        assert pm(confdir, f"lmdb:{path}").returncode == 0
    proc = pm(confdir, "-q", key, f"{type}:{path}")
    if value is None:
        assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    else:
        assert (proc.returncode, proc.stdout) == (0, value + "\n"), proc.stderr


SPEC_GOLDEN = [
    ("inline:{a=1, b=2}", "A", "1"),
    ("inline:{a=1, b=2}", "c", None),
    ("static:fixed", "anything", "fixed"),
    ("static:{two words}", "anything", "two words"),
    ("unionmap:{texthash:TH, inline:{k1=x, z=y}}", "k1", "v1,x"),
    ("unionmap:{texthash:TH, inline:{k1=x, z=y}}", "z", "y"),
    ("unionmap:{texthash:TH, inline:{k1=x}}", "nope", None),
    ("pipemap:{texthash:TH, regexp:PRE}", "k1", "v1-re"),
    ("pipemap:{texthash:TH, regexp:PRE}", "nope", None),
    ("pipemap:{inline:{k1=mid}, inline:{mid=end}}", "k1", "end"),
]


@pytest.mark.parametrize("spec,key,value", SPEC_GOLDEN)
def test_golden_spec_tables(confdir, spec, key, value):
    th = confdir.file("th", "k1 v1\nK2 v2\n")
    pre = confdir.file("pre", "/(.*)/ $1-re\n")
    spec = spec.replace("TH", str(th)).replace("PRE", str(pre))
    proc = pm(confdir, "-q", key, spec)
    if value is None:
        assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    else:
        assert (proc.returncode, proc.stdout) == (0, value + "\n"), proc.stderr


def test_listing_other_types(confdir):
    proc = pm(confdir, "-s", "inline:{a=1, b=2}")
    assert proc.returncode == 0
    assert sorted(proc.stdout.splitlines()) == ["a\t1", "b\t2"]
    th = confdir.file("th", "b x\na 1\nA 2\nc\n")
    proc = pm(confdir, "-s", f"texthash:{th}")
    assert proc.returncode == 0
    assert sorted(proc.stdout.splitlines()) == ["a\t1", "b\tx"]
    assert warnings(proc) == [
        f'postmap: warning: {th}, line 3: duplicate entry: "A"',
        f"postmap: warning: {th}, line 4: expected format: key whitespace value"
        " -- ignoring this line"]
    proc = pm(confdir, "-rs", f"texthash:{th}")
    assert sorted(proc.stdout.splitlines()) == ["a\t2", "b\tx"]
    proc = pm(confdir, "-fs", f"texthash:{th}")
    assert sorted(proc.stdout.splitlines()) == ["A\t2", "a\t1", "b\tx"]
    rules = confdir.file("re", "/a/ b\n")
    for spec in ("static:x", "unionmap:{inline:{a=1}}", f"regexp:{rules}"):
        proc = pm(confdir, "-s", spec)
        assert (proc.returncode, proc.stderr) == \
            (1, f"postmap: fatal: table {spec}: sequence operation is not supported\n")


@pytest.mark.parametrize("type,text,line", [
    ("regexp", "/ok/ OK\n/(unclosed/ X\n", 2),
    ("regexp", "/ok/ OK\nnoslash X\n", 2),
    ("regexp", "if /a/\n/b/ B\n", 1),
    ("regexp", "/ok/ OK\nendif\n", 2),
    ("regexp", "/ok/ OK $2\n", 1),
    ("pcre", "/ok/ OK\n/(unclosed/ X\n", 2),
    ("cidr", "10.0.0.0/33 X\n", 1),
    ("cidr", "10.0.0.1/24 X\n", 1),
    ("cidr", "garbage X\n", 1),
    ("cidr", "10.0.0.0/8\n", 1),
])
def test_bad_pattern_rules(confdir, type, text, line):
    """Postfix skips a bad rule with a warning; Postern refuses the table."""
    path = confdir.file("bad", text)
    proc = pm(confdir, "-q", "ok", f"{type}:{path}")
    assert proc.returncode != 0
    assert f"{path}, line {line}" in proc.stderr


@pytest.mark.parametrize("type", ["regexp", "pcre", "cidr"])
def test_missing_pattern_file(confdir, type):
    name = f"{confdir.path}/missing"
    proc = pm(confdir, "-q", "x", f"{type}:{name}")
    assert proc.returncode == 1
    assert f"open {name}: No such file or directory" in proc.stderr


def test_building_a_pattern_type(confdir):
    path = confdir.file("re", "/a/ b\n")
    proc = pm(confdir, f"regexp:{path}")
    assert (proc.returncode, proc.stderr) == \
        (1, "postmap: fatal: unsupported dictionary type: regexp does not "
            "support bulk-mode creation.\n")
    proc = pm(confdir, "-d", "a", f"regexp:{path}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postmap: fatal: regexp:{path} map requires O_RDONLY access mode\n")
