"""System tests for postalias: aliases(5) parsing, storing and querying.

The expected listings, messages and exit statuses were recorded from
Debian's Postfix 3.7 postalias on the same files (golden data); the tests
never run Postfix itself.
"""
import os
import re

import pytest

from conftest import run

ALIASES = """# comment
postmaster: root
Root: admin, other@example.com
"a b": x
list: :include:/etc/list, |"/usr/bin/prog arg", "|/bin/cmd with spaces"
file: /var/log/file
cont: one,
  two,
\tthree
dup: first
DUP: second
nocolon value
 lead: x
emptyval:
quoted"mid: y
"unbal: z
a@b: local
spaces   :   v1 ,  v2
"""

LISTING = """@:\t@
YP_LAST_MODIFIED:\tSTAMP
YP_MASTER_NAME:\thost.example.com
a b:\tx
cont:\tone, two, three
dup:\tfirst
file:\t/var/log/file
list:\t:include:/etc/list, |"/usr/bin/prog arg", "|/bin/cmd with spaces"
nocolon value lead:\tx
postmaster:\troot
root:\tadmin, other@example.com
spaces:\tv1, v2
"""


def pa(confdir, *args, input=None):
    return run("postalias", "-c", confdir, *args, input=input)


@pytest.fixture
def conf(confdir):
    confdir.write_main("myhostname = host.example.com\n")
    return confdir


def stamped(text):
    """Replace the YP_LAST_MODIFIED time, checking its 10-digit shape."""
    stamp = re.search(r"^YP_LAST_MODIFIED:\t(\d{10})$", text, re.M)
    assert stamp, text
    return text.replace(stamp.group(1), "STAMP")


def test_build_and_list(conf):
    path = conf.file("aliases", ALIASES)
    proc = pa(conf, f"lmdb:{path}")
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        f'postalias: warning: lmdb:{path}: duplicate entry: "dup"',
        f"postalias: warning: {path}, line 14: need name:value pair",
        f"postalias: warning: {path}, line 15: need name:value pair",
        f"postalias: warning: {path}, line 16: need name:value pair",
        f"postalias: warning: {path}, line 17: name must be local",
    ]
    proc = pa(conf, "-s", f"lmdb:{path}")
    assert proc.returncode == 0
    assert stamped(proc.stdout) == LISTING


def test_default_type_is_hash(conf):
    path = conf.file("aliases", "a: b\nA: c\n")
    proc = pa(conf, path)
    assert proc.returncode == 0
    assert proc.stderr == f'postalias: warning: {path}.db: duplicate entry: "a"\n'
    assert (conf.path / "aliases.db").exists()
    assert pa(conf, "-q", "A", path).stdout == "b\n"


def test_queries(conf):
    path = conf.file("aliases", ALIASES)
    pa(conf, f"lmdb:{path}")
    proc = pa(conf, "-q", "ROOT", f"lmdb:{path}")
    assert (proc.returncode, proc.stdout) == (0, "admin, other@example.com\n")
    assert pa(conf, "-q", "@", f"lmdb:{path}").stdout == "@\n"
    assert pa(conf, "-q", "nobody", f"lmdb:{path}").returncode == 1
    proc = pa(conf, "-q", "-", f"lmdb:{path}", input="root\nnone\nlist\n")
    assert proc.returncode == 0
    assert proc.stdout == ("root:\tadmin, other@example.com\n"
                           'list:\t:include:/etc/list, |"/usr/bin/prog arg", '
                           '"|/bin/cmd with spaces"\n')
    assert pa(conf, "-q", "-", f"lmdb:{path}", input="").returncode == 1


VALUES = """v1: a b c
v2: a,,b , ,c
v3: Joe User <joe@example.com>, (comment) x
v4: "quoted  string"@host,  x  @  y
v5: |/bin/foo   bar
v6: "|/bin/foo   bar"
v8: :include:  /etc/x
v9: \\root, \\\\x
v11: <>, @, x@
v13: "a
v14: x(unclosed
v16: x<y
v18: ,
v20: a.b . c
k1: a | b, "q" | "r", x|"s" y
k2: a / b
"""

VALUE_LISTING = """v1:\ta b c
v2:\ta, , b, , c
v3:\tJoe User <joe@example.com>, (comment) x
v4:\t"quoted  string"@host, x@y
v5:\t|/bin/foo bar
v6:\t"|/bin/foo   bar"
v8:\t:include:/etc/x
v9:\troot, "\\\\x"
v11:\t<>, @, x@
v13:\t"a"
v14:\tx (unclosed
v16:\tx <y
v18:\t, 
v20:\ta.b.c
k1:\ta|b, "q"|"r", x|"s" y
k2:\ta / b
"""


def test_value_normal_form(conf):
    path = conf.file("aliases", VALUES)
    assert pa(conf, f"lmdb:{path}").returncode == 0
    listing = pa(conf, "-s", f"lmdb:{path}").stdout.splitlines()
    ours = [line for line in listing if not line.startswith(("@", "YP_"))]
    assert sorted(ours) == sorted(VALUE_LISTING.splitlines())


def test_flags(conf):
    path = conf.file("aliases", "a: b\na: c\nA: d\n")
    pa(conf, "-r", f"lmdb:{path}")
    assert pa(conf, "-q", "a", f"lmdb:{path}").stdout == "d\n"
    proc = pa(conf, "-w", f"lmdb:{path}")
    assert proc.stderr == ""
    assert pa(conf, "-q", "a", f"lmdb:{path}").stdout == "b\n"
    pa(conf, "-f", f"lmdb:{path}")
    assert pa(conf, "-fq", "A", f"lmdb:{path}").stdout == "d\n"
    listing = stamped(pa(conf, "-s", f"lmdb:{path}").stdout)
    assert listing == ("@:\t@\nA:\td\nYP_LAST_MODIFIED:\tSTAMP\n"
                       "YP_MASTER_NAME:\thost.example.com\na:\tb\n")


def test_incremental_and_delete(conf):
    name = conf.path / "ali"
    proc = pa(conf, "-i", f"lmdb:{name}", input="x: y\nX: z\nroot: a\n")
    assert proc.returncode == 0
    assert proc.stderr == f'postalias: warning: lmdb:{name}: duplicate entry: "x"\n'
    assert stamped(pa(conf, "-s", f"lmdb:{name}").stdout) == (
        "@:\t@\nYP_LAST_MODIFIED:\tSTAMP\nYP_MASTER_NAME:\thost.example.com\n"
        "root:\ta\nx:\ty\n")
    # A second update replaces the signatures quietly.
    proc = pa(conf, "-i", f"lmdb:{name}", input="new: y\n")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert pa(conf, "-d", "NEW", f"lmdb:{name}").returncode == 0
    assert pa(conf, "-d", "new", f"lmdb:{name}").returncode == 1
    assert pa(conf, "-d", "-", f"lmdb:{name}", input="x\nroot\n").returncode == 0
    assert pa(conf, "-q", "root", f"lmdb:{name}").returncode == 1


def test_errors(conf):
    missing = conf.path / "missing"
    proc = pa(conf, f"lmdb:{missing}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postalias: fatal: open {missing}: No such file or directory\n")
    proc = pa(conf, "-q", "x", f"lmdb:{missing}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postalias: fatal: open database {missing}.lmdb: No such file or directory\n")
    proc = pa(conf)
    assert (proc.returncode, proc.stderr) == \
        (1, "postalias: fatal: usage: postalias [-Nfinoprsuvw] [-c config_dir] "
            "[-d key] [-q key] [map_type:]file...\n")
    junk = conf.path / "junk.db"
    junk.write_bytes(bytes(range(256)) * 64)
    proc = pa(conf, "-q", "x", f"hash:{conf.path}/junk")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postalias: fatal: open database {junk}: MDB_INVALID: File is not "
            "an LMDB file\n")


def test_unreadable_source(conf):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = conf.file("aliases", "a: b\n")
    os.chmod(path, 0)
    proc = pa(conf, f"lmdb:{path}")
    assert (proc.returncode, proc.stderr) == \
        (1, f"postalias: fatal: open {path}: Permission denied\n")


def test_incremental_warnings_name_stdin(conf):
    name = conf.path / "ali"
    proc = pa(conf, "-i", f"lmdb:{name}", input="x: y\nbad\na@b: c\n")
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        "postalias: warning: stdin, line 2: need name:value pair",
        "postalias: warning: stdin, line 3: name must be local",
    ]
    assert stamped(pa(conf, "-s", f"lmdb:{name}").stdout) == (
        "@:\t@\nYP_LAST_MODIFIED:\tSTAMP\nYP_MASTER_NAME:\thost.example.com\n"
        "x:\ty\n")


def test_bad_myhostname_touches_no_table(conf):
    """Postfix gives up before it opens anything (its message differs)."""
    path = conf.file("aliases", "a: b\n")
    assert pa(conf, f"lmdb:{path}").returncode == 0
    table = conf.path / "aliases.lmdb"
    before = table.read_bytes()
    conf.write_main("myhostname = ${foo\n")
    fresh = conf.file("fresh", "a: b\n")
    for arg in (f"lmdb:{path}", f"lmdb:{fresh}"):
        proc = pa(conf, arg)
        assert proc.returncode == 1
        assert "fatal" in proc.stderr
    assert table.read_bytes() == before
    assert not (conf.path / "fresh.lmdb").exists()


PA_USAGE = ("postalias: fatal: usage: postalias [-Nfinoprsuvw] [-c config_dir] "
            "[-d key] [-q key] [map_type:]file...\n")


@pytest.mark.parametrize("args,stderr", [
    # postmap's own options are not postalias options.
    *[([opt, "x"], f"postalias: invalid option -- '{opt[1]}'\n" + PA_USAGE)
      for opt in ("-F", "-b", "-h", "-m", "-U", "-Z")],
    (["-q"], "postalias: option requires an argument -- 'q'\n" + PA_USAGE),
    (["-d"], "postalias: option requires an argument -- 'd'\n" + PA_USAGE),
    (["-q", "x", "-s", "t"], "postalias: fatal: specify only one of -s or -q or -d\n"),
    (["-s", "-d", "x", "t"], "postalias: fatal: specify only one of -s -q or -d\n"),
])
def test_usage_errors(conf, args, stderr):
    proc = pa(conf, *args)
    assert (proc.returncode, proc.stderr) == (1, stderr)
