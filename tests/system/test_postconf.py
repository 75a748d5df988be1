"""System tests for the postconf command.

Where Postern must print what Postfix prints, the expected output is a golden
file recorded once from Debian's Postfix 3.7 postconf on the same input
(tests/system/data/postconf/regen.sh says how): main.cf and master.cf there
are a realistic configuration written for these tests. @CONFIG_DIR@ in a
golden file stands for the configuration directory, @MACHINE@ for a value
that depends on the machine, which the tests derive from this machine.
"""
import os
import shutil
import socket
import stat

import pytest

from conftest import DATA, run

GOLDEN = DATA / "postconf"

# Defaults that differ from Debian's Postfix 3.7 on purpose, with the reason.
# (Empty so far: add a name here only with a reason a reviewer accepts.)
DEFAULT_DEVIATIONS = {
    # Postfix 3.9's safer default (DESIGN.md section 1); 3.7 says "no".
    "smtpd_forbid_bare_newline": "normalize",
    # Postfix 3.9's safer default (DESIGN.md section 1); 3.7.6+ says "no".
    "smtpd_forbid_unauth_pipelining": "yes",
}

# Parameters Postern declares that Postfix 3.7 does not have.
POSTERN_ONLY = {
    "dns_resolver_conf",  # src/global/dns.h: a resolv.conf for mail lookups
}


def parse_listing(text):
    """'name = value' lines into an ordered dict."""
    params = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" =")
        assert sep, f"not a parameter line: {line!r}"
        params[name] = value[1:] if value.startswith(" ") else value
    return params


def golden(name, confdir=None):
    text = (GOLDEN / name).read_text()
    if confdir is not None:
        text = text.replace("@CONFIG_DIR@", str(confdir))
    return text


def postconf(confdir, *args, **kwargs):
    return run("postconf", "-c", confdir, *args, **kwargs)


def ok(confdir, *args):
    """Run postconf and insist on exit status 0; returns stdout."""
    proc = postconf(confdir, *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def real(confdir):
    """confdir with the realistic main.cf and master.cf."""
    shutil.copy(GOLDEN / "main.cf", confdir.main_cf)
    shutil.copy(GOLDEN / "master.cf", confdir.master_cf)
    return confdir


def machine_hostname():
    """myhostname as Postfix computes it on this machine."""
    name = socket.gethostname()
    return name if "." in name else name + ".localdomain"


def check_machine_value(name, value):
    """The checks for a @MACHINE@ value."""
    host = machine_hostname()
    if name == "myhostname":
        assert value == host
    elif name == "mydomain":
        assert value == host.split(".", 1)[1]
    elif name == "mynetworks":
        assert "127.0.0.0/8" in value.split()
    elif name == "process_id":
        assert value.isdigit()
    else:
        pytest.fail(f"no machine check for {name}")


def compare_defaults(ours, expected):
    """Every parameter we print must have Postfix's default."""
    mismatches = []
    for name, value in ours.items():
        if name in POSTERN_ONLY or name in DEFAULT_DEVIATIONS:
            continue
        if name not in expected:
            mismatches.append(f"{name}: not a Postfix 3.7 parameter")
        elif expected[name] == "@MACHINE@":
            check_machine_value(name, value)
        elif value != expected[name]:
            mismatches.append(f"{name}: {value!r} != {expected[name]!r}")
    assert not mismatches, "\n".join(mismatches)


# ---- defaults -------------------------------------------------------------

def test_defaults_match_postfix(confdir):
    expected = parse_listing((DATA / "postconf-d.txt").read_text())
    listing = ok(confdir, "-d")
    ours = parse_listing(listing)
    assert ours, "postconf -d printed nothing"
    assert list(ours) == sorted(ours)
    compare_defaults(ours, expected)
    # The same, asked for by name, in the order asked.
    names = list(ours)
    by_name = ok(confdir, "-d", *reversed(names))
    assert list(parse_listing(by_name)) == list(reversed(names))
    compare_defaults(parse_listing(by_name), expected)


def test_derived_parameters_from_master_cf(real):
    expected = parse_listing(golden("derived.golden"))
    ours = parse_listing(ok(real, "-d"))
    builtin = parse_listing((DATA / "postconf-d.txt").read_text())
    derived = {name: value for name, value in ours.items()
               if name not in builtin and name not in POSTERN_ONLY}
    assert derived == expected
    # And they are known names: postconf NAME answers without a warning.
    proc = postconf(real, "tickets_time_limit", "relay_recipient_limit")
    assert proc.stdout == ("tickets_time_limit = $command_time_limit\n"
                           "relay_recipient_limit = $default_recipient_limit\n")
    assert "unknown parameter" not in proc.stderr


def test_derived_parameters_for_every_kind_of_command(confdir):
    # Recorded from Postfix 3.7 on master-commands.cf with an empty main.cf.
    shutil.copy(GOLDEN / "master-commands.cf", confdir.master_cf)
    expected = parse_listing(golden("derived-commands.golden"))
    builtin = parse_listing((DATA / "postconf-d.txt").read_text())
    for flags in (["-d"], []):
        ours = parse_listing(ok(confdir, *flags))
        derived = {name: value for name, value in ours.items()
                   if name not in builtin and name not in POSTERN_ONLY}
        assert derived == expected


def test_local_service_keeps_builtin_local_limits(real):
    """A "local" service brings local_destination_concurrency_limit and
    local_destination_recipient_limit, but Postfix declares both with
    defaults of their own (2 and 1), which win."""
    builtin = parse_listing((DATA / "postconf-d.txt").read_text())
    names = ["local_destination_concurrency_limit",
             "local_destination_recipient_limit"]
    expected = {name: builtin[name] for name in names}
    assert expected == {names[0]: "2", names[1]: "1"}
    assert parse_listing(ok(real, "-d", *names)) == expected
    assert parse_listing(ok(real, *names)) == expected
    # And every name the services bring has Postfix's value in the plain
    # listing too (main.cf sets relay_destination_concurrency_limit).
    full = parse_listing(golden("all.golden", real))
    ours = parse_listing(ok(real))
    for name in [*parse_listing(golden("derived.golden")), *names]:
        assert ours.get(name) == full[name], name


def test_machine_dependent_defaults(confdir):
    ours = parse_listing(ok(confdir, "-d", "myhostname", "mydomain",
                            "mynetworks", "process_id"))
    for name, value in ours.items():
        check_machine_value(name, value)


def declared(confdir):
    """The parameters Postern declares (postconf -d with no master.cf)."""
    return set(parse_listing(ok(confdir, "-d")))


def test_defaults_expanded(confdir):
    # Those of the recorded names that Postern declares.
    expected = {name: value for name, value
                in parse_listing(golden("dx.golden")).items()
                if name in declared(confdir)}
    assert expected, "none of the names in dx.golden is declared"
    assert parse_listing(ok(confdir, "-dx", *expected)) == expected


# ---- main.cf settings -----------------------------------------------------

def without_config_directory(text):
    """Drop the config_directory line, which -f folds by the path's length."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("config_directory ="):
            skipping = True
        elif not (skipping and line.startswith(" ")):
            skipping = False
            kept.append(line)
    return "".join(kept)


def test_folded_settings_match_postfix(real):
    out = ok(real, "-nf")
    assert without_config_directory(out) == \
        without_config_directory(golden("nf.golden"))
    assert "config_directory =" in out


@pytest.mark.parametrize("flags,name", [
    (["-n"], "n.golden"),
    (["-nh"], "nh.golden"),
    (["-nH"], "nH.golden"),
    (["myorigin", "mydestination", "relay_destination_concurrency_limit",
      "mua_client_restrictions", "tickets_time_limit"], "names.golden"),
    (["-x", "myorigin", "mydestination", "mynetworks",
      "smtpd_recipient_restrictions"], "x.golden"),
])
def test_main_cf_output_matches_postfix(real, flags, name):
    assert ok(real, *flags) == golden(name, real)


def test_full_listing_agrees_with_postfix(real):
    expected = parse_listing(golden("all.golden", real))
    ours = parse_listing(ok(real))
    assert list(ours) == sorted(ours)
    compare_defaults(ours, expected)
    # User-defined names that master.cf uses are parameters too.
    assert ours["mua_client_restrictions"] == \
        "permit_sasl_authenticated, reject"


def test_mail_config_environment_names_the_directory(real):
    proc = run("postconf", "-n", env={"MAIL_CONFIG": str(real)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == golden("n.golden", real)


def test_override_on_command_line(real):
    assert ok(real, "-o", "myhostname=other.example", "-x", "myorigin",
              "myhostname") == ("myorigin = example.net\n"
                                "myhostname = other.example\n")


def test_fold_at_80_columns(confdir):
    word = "x" * 63
    confdir.write_main(f"relayhost = {word} 1234 5\n")
    out = ok(confdir, "-nf", "relayhost")
    assert out == f"relayhost = {word} 1234\n    5\n"
    confdir.write_main(f"relayhost = {word}x 1234 5\n")
    assert ok(confdir, "-nf", "relayhost") == \
        f"relayhost = {word}x\n    1234 5\n"
    # Without -f nothing is folded, also when stdout is not a terminal.
    assert ok(confdir, "-n", "relayhost") == f"relayhost = {word}x 1234 5\n"


def test_empty_value_has_no_trailing_space(confdir):
    assert ok(confdir, "-d", "proxy_interfaces") == "proxy_interfaces =\n"
    assert ok(confdir, "-dh", "proxy_interfaces") == "\n"
    assert ok(confdir, "-dH", "proxy_interfaces") == "proxy_interfaces\n"


def test_unknown_parameter_query(confdir):
    proc = postconf(confdir, "nosuch_parameter", "myorigin")
    assert proc.returncode == 0
    assert proc.stdout == "myorigin = $myhostname\n"
    assert "postconf: warning: nosuch_parameter: unknown parameter" in \
        proc.stderr


def test_missing_main_cf(tmp_path):
    proc = run("postconf", "-c", tmp_path, "-n")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (f"postconf: fatal: open {tmp_path}/main.cf: "
                           "No such file or directory\n")


def test_missing_master_cf_is_a_warning(confdir):
    os.unlink(confdir.master_cf)
    confdir.write_main("myhostname = a.example\n")
    proc = postconf(confdir, "-n")
    assert proc.returncode == 0
    assert "myhostname = a.example\n" in proc.stdout
    assert f"postconf: warning: open {confdir}/master.cf: No such file" in \
        proc.stderr
    proc = postconf(confdir, "-M")
    assert proc.returncode == 1
    assert f"postconf: fatal: open {confdir}/master.cf: No such file" in \
        proc.stderr


def test_misspelled_parameter_names_the_closest(confdir):
    confdir.write_main("myhostname = a.example\nmyhostnme = b.example\n")
    proc = postconf(confdir, "-n")
    assert proc.returncode == 0
    assert "myhostnme" not in proc.stdout
    lines = [line for line in proc.stderr.splitlines()
             if "myhostnme" in line]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("postconf: warning: ")
    assert f"{confdir}/main.cf" in lines[0]
    assert "parameter: myhostnme=b.example" in lines[0]
    assert "did you mean myhostname?" in lines[0]


def test_unimplemented_postfix_parameter(confdir):
    name = unimplemented_postfix_name(confdir)
    confdir.write_main(f"{name} = 1\n")
    proc = postconf(confdir, "-n")
    assert proc.returncode == 0
    lines = [line for line in proc.stderr.splitlines() if name in line]
    assert len(lines) == 1, proc.stderr
    assert "not supported yet" in lines[0]


def unimplemented_postfix_name(confdir):
    """A Postfix 3.7 parameter that Postern does not declare."""
    names = declared(confdir)
    postfix = parse_listing((DATA / "postconf-d.txt").read_text())
    for name in ("lmtp_sasl_auth_enable", "smtp_sasl_password_maps",
                 "fallback_transport_maps"):
        if name not in names:
            return name
    missing = sorted(set(postfix) - names)
    if not missing:
        pytest.skip("every Postfix parameter is implemented")
    return missing[0]


def test_bad_main_cf_line(confdir):
    confdir.write_main("myhostname = a.example\nthis is bad\n")
    proc = postconf(confdir, "-n")
    assert proc.returncode != 0
    assert f"{confdir}/main.cf, line 2: " in proc.stderr
    assert proc.stderr.startswith("postconf: fatal: ")


def test_unterminated_macro(confdir):
    confdir.write_main("myorigin = ${mydomain\n")
    # Like Postfix, every value is expanded once whatever was asked.
    for flags in (["-x", "myorigin"], ["-n"], ["mydomain"]):
        proc = postconf(confdir, *flags)
        assert proc.returncode == 1
        assert proc.stdout == ""
        assert proc.stderr == (
            f"postconf: fatal: {confdir}/main.cf: parameter myorigin: "
            "missing '}' in \"${mydomain\"\n")


def test_unterminated_macro_in_master_cf(confdir):
    confdir.write_master("smtp inet n - y - - smtpd -o syslog_name=${x\n")
    assert ok(confdir, "-P") == "smtp/inet/syslog_name = ${x\n"
    proc = postconf(confdir, "-Px")
    assert proc.returncode == 1
    assert proc.stderr == (
        f"postconf: fatal: {confdir}/master.cf, line 1: parameter "
        "syslog_name: missing '}' in \"${x\"\n")


def test_undefined_parameter_warning(confdir):
    confdir.write_main("myorigin = $no_such_thing\n")
    proc = postconf(confdir, "-n")
    assert proc.returncode == 0
    assert proc.stdout.endswith("myorigin = $no_such_thing\n")
    assert (f"postconf: warning: {confdir}/main.cf: undefined parameter: "
            "no_such_thing") in proc.stderr


# ---- warnings about main.cf and master.cf together ------------------------

def warnings(stderr):
    """The warning lines, without "not supported yet" ones (which depend on
    what Postern implements) and in sorted order (Postfix's is hash order)."""
    lines = [line for line in stderr.splitlines()
             if "is not supported yet" not in line]
    assert all(line.startswith("postconf: warning: ") for line in lines), \
        stderr
    return sorted(line[len("postconf: warning: "):] for line in lines)


def test_realistic_configuration_draws_no_warnings(real):
    # Postfix 3.7 prints nothing to stderr for these files: in particular
    # mua_client_restrictions is used by master.cf's submission service.
    for flags in (["-n"], [], ["-M"], ["-P"], ["-x", "myorigin"]):
        proc = postconf(real, *flags)
        assert proc.returncode == 0
        assert warnings(proc.stderr) == [], flags


CHECK_MAIN_CF = """\
myorigin = $nosuch_main
foo = $bar_undef
unusedx = 1
mua_client_restrictions = permit
"""

CHECK_MASTER_CF = """\
smtp inet n - y - - smtpd -o syslog_name=$mua_client_restrictions -o a=b
  -o x=$undef_in_master -o mail_name=${also_undef?x}
relay unix - - y - - smtp -o syslog_name=postfix/$service_name
"""

# Recorded from Postfix 3.7's postconf on the files above.
CHECK_UNDEFINED = [
    "@/main.cf: undefined parameter: bar_undef",
    "@/main.cf: undefined parameter: nosuch_main",
    "@/master.cf: undefined parameter: also_undef",
    "@/master.cf: undefined parameter: undef_in_master",
]
CHECK_MAIN_UNUSED = [
    "@/main.cf: unused parameter: foo=$bar_undef",
    "@/main.cf: unused parameter: unusedx=1",
]
CHECK_MASTER_UNUSED = [
    "@/master.cf: unused parameter: a=b",
    "@/master.cf: unused parameter: x=$undef_in_master",
]


def expected_warnings(confdir, *groups):
    return sorted(line.replace("@", str(confdir))
                  for group in groups for line in group)


@pytest.mark.parametrize("flags", [[], ["-n"], ["-x"], ["-nx"], ["myorigin"],
                                   ["-h", "myorigin"]])
def test_undefined_and_unused_warnings(confdir, flags):
    confdir.write_main(CHECK_MAIN_CF)
    confdir.write_master(CHECK_MASTER_CF)
    proc = postconf(confdir, *flags)
    assert proc.returncode == 0
    assert warnings(proc.stderr) == expected_warnings(
        confdir, CHECK_UNDEFINED, CHECK_MAIN_UNUSED, CHECK_MASTER_UNUSED)


@pytest.mark.parametrize("flags", [["-M"], ["-Mx"], ["-P"], ["-Px"], ["-F"]])
def test_master_modes_leave_main_cf_names_alone(confdir, flags):
    confdir.write_main(CHECK_MAIN_CF)
    confdir.write_master(CHECK_MASTER_CF)
    proc = postconf(confdir, *flags)
    assert proc.returncode == 0
    assert warnings(proc.stderr) == expected_warnings(
        confdir, CHECK_UNDEFINED, CHECK_MASTER_UNUSED)


def test_defaults_ignore_the_settings(confdir):
    # postconf -d does not look at what main.cf and master.cf set.
    confdir.write_main(CHECK_MAIN_CF + "myhostname = ${broken\n")
    confdir.write_master(CHECK_MASTER_CF)
    proc = postconf(confdir, "-d", "myorigin")
    assert proc.returncode == 0
    assert proc.stdout == "myorigin = $myhostname\n"
    assert proc.stderr == ""


def test_undefined_warning_per_reference(confdir):
    confdir.write_main("myorigin = $dup $dup ${dup} $(dup)\n"
                       "mail_name = ${cond?$in_branch} $$escaped\n")
    proc = postconf(confdir, "-n")
    where = f"{confdir}/main.cf: undefined parameter:"
    assert warnings(proc.stderr) == sorted(
        [f"{where} dup"] * 4 + [f"{where} cond", f"{where} in_branch"])


def test_master_cf_scope_of_settings(confdir):
    confdir.write_main("x = $m1\n")
    confdir.write_master(
        "smtp inet n - y - - smtpd -o a=b -o c=$a -o m1=1 -o o2=$other\n"
        "sub inet n - y - - smtpd -o other=3\n"
        "relay unix - - y - - smtp -o x=$relay_destination_rate_delay\n"
        "  -o relay_time_limit=1 -o smtp_destination_rate_delay=1\n")
    proc = postconf(confdir, "-n")
    # Recorded from Postfix 3.7: -o names are read only by main.cf values
    # and by the same service; only pipe and spawn bring NAME_time_limit.
    assert warnings(proc.stderr) == expected_warnings(confdir, [
        "@/master.cf: undefined parameter: other",
        "@/main.cf: unused parameter: x=$m1",
        "@/master.cf: unused parameter: c=$a",
        "@/master.cf: unused parameter: o2=$other",
        "@/master.cf: unused parameter: other=3",
        "@/master.cf: unused parameter: x=$relay_destination_rate_delay",
        "@/master.cf: unused parameter: relay_time_limit=1",
        "@/master.cf: unused parameter: smtp_destination_rate_delay=1",
    ])


def test_misspelled_master_cf_setting(confdir):
    confdir.write_master("smtp inet n - y - - smtpd -o myhostnme=a\n")
    proc = postconf(confdir, "-M")
    # Postfix: "unused parameter: myhostnme=a"; Postern names the likely
    # intended parameter, as it does for main.cf.
    assert warnings(proc.stderr) == [
        f"{confdir}/master.cf: unknown parameter: myhostnme=a "
        "(did you mean myhostname?)"]


# ---- an indented first line --------------------------------------------------

@pytest.mark.parametrize("text,quoted", [
    ("  myorigin = a.example\n  cont\nmydomain = b.example\n",
     "  myorigin = a.example  cont"),
    ("# c\n\n\tmyorigin = a.example.very.long.name\nmydomain = b.example\n",
     "?myorigin = a.example.very.lon..."),
])
def test_indented_first_line_of_main_cf(confdir, text, quoted):
    confdir.write_main(text)
    proc = postconf(confdir, "-n")
    assert proc.returncode == 0
    assert proc.stdout == (f"config_directory = {confdir}\n"
                           "mydomain = b.example\n")
    # Postfix prints it several times (it reads main.cf more than once).
    assert set(proc.stderr.splitlines()) == {
        f"postconf: warning: {confdir}/main.cf: logical line must not "
        f'start with whitespace: "{quoted}"'}


def test_indented_first_line_of_master_cf(confdir):
    confdir.write_master("  smtp inet n - y - - smtpd\n  -o a=b\n# c\n"
                         "pickup unix n - y 60 1 pickup\n")
    for flags in (["-M"], ["-n"]):
        proc = postconf(confdir, *flags)
        assert proc.returncode == 0
        assert proc.stderr == (
            f"postconf: warning: {confdir}/master.cf: logical line must not "
            'start with whitespace: "  smtp inet n - y - - smtpd  -..."\n')
    assert ok(confdir, "-M") == ("pickup     unix  n       -       y       "
                                 "60      1       pickup\n")


@pytest.mark.parametrize("flags,message", [
    (["-d", "-n"], "specify one of -d -n"),
    (["-h", "-H"], "specify one of -h -H"),
    (["-M", "-F"], "specify one of -F -M"),
    (["-P", "-M"], "specify one of -M -P"),
    (["-#", "-X", "a"], "specify one of -X -#"),
    (["-M", "-h"], "with option -M, do not specify -h"),
    (["-e", "-X", "a"], "specify one of -e -X"),
    (["-Z"], "usage: postconf"),
])
def test_bad_option_combinations(real, flags, message):
    proc = postconf(real, *flags)
    assert proc.returncode == 1
    assert message in proc.stderr


# ---- lookup table types ---------------------------------------------------

def test_map_types(confdir):
    out = ok(confdir, "-m").split()
    assert out == sorted(out)
    for name in ("cidr", "inline", "lmdb", "regexp", "static", "texthash"):
        assert name in out


# ---- master.cf --------------------------------------------------------------

@pytest.mark.parametrize("flags,name", [
    (["-M"], "M.golden"),
    (["-Mf"], "Mf.golden"),
    (["-M", "smtp"], "M-smtp.golden"),
    (["-M", "smtp/inet", "relay/*", "tickets"], "M-select.golden"),
    (["-Mx", "relay"], "Mx.golden"),
    (["-F"], "F.golden"),
    (["-Ff"], "Ff.golden"),
    (["-F", "smtp/inet/chroot", "pickup/*/wakeup", "tickets/unix/command"],
     "F-select.golden"),
    (["-P"], "P.golden"),
    (["-P", "submission/inet/syslog_name", "relay/unix/*"],
     "P-select.golden"),
    (["-Px"], "Px.golden"),
])
def test_master_cf_output_matches_postfix(real, flags, name):
    assert ok(real, *flags) == golden(name, real)


def test_master_cf_folding_and_options(confdir):
    wide = "w" * 30
    confdir.write_master(
        f"{'s' * 30} unix - - - - - pipe{wide} x y\n"
        f"n unix - - - - - smtpd -o syslog_name={wide * 3} -o a=b\n"
        f"m unix - - - - - smtpd {wide} -o a=b\n"
        "k unix - - - - - smtpd -o\n"
        "i unix - - - - - smtpd -v -v -v -o a=b zzz -o c=d\n"
        "h unix - - - - - smtpd -o { x = a b } -o {y = { a b } }\n")
    # Recorded from Postfix 3.7's postconf -Mf on the same file.
    assert ok(confdir, "-Mf") == (
        f"{'s' * 30} unix - - - -      -       pipe{wide}\n"
        "    x y\n"
        "n          unix  -       -       -       -       -       smtpd\n"
        f"    -o syslog_name={wide * 3}\n"
        "    -o a=b\n"
        "m          unix  -       -       -       -       -       smtpd\n"
        f"    {wide} -o a=b\n"
        "k          unix  -       -       -       -       -       smtpd -o\n"
        "i          unix  -       -       -       -       -       smtpd -v "
        "-v -v\n"
        "    -o a=b\n"
        "    zzz -o c=d\n"
        "h          unix  -       -       -       -       -       smtpd\n"
        "    -o {x=a b}\n"
        "    -o {y={ a b }}\n")


def test_master_cf_unmatched_and_bad_selectors(real):
    proc = postconf(real, "-M", "nosuch", "smtp/inet")
    assert proc.returncode == 0
    assert proc.stdout.startswith("smtp       inet")
    assert 'postconf: warning: unmatched request: "nosuch"' in proc.stderr
    proc = postconf(real, "-M", "smtp/inet/x")
    assert proc.returncode == 1
    assert "-M option requires service_name[/type]" in proc.stderr
    proc = postconf(real, "-F", "smtp/inet/nofield")
    assert proc.returncode == 1
    assert 'invalid service attribute name: "nofield"' in proc.stderr


def test_master_cf_bad_line(confdir):
    confdir.write_master("smtp inet n - y - - smtpd\nbroken inet n\n")
    for flags in (["-M"], ["-n"]):
        proc = postconf(confdir, *flags)
        assert proc.returncode == 1
        assert proc.stderr.endswith(
            f"postconf: fatal: {confdir}/master.cf, line 2: "
            "too few fields\n")
    confdir.write_master("smtp inet n - y - - smtpd\nx inet n - y 5x - y\n")
    proc = postconf(confdir, "-M")
    assert proc.returncode == 1
    assert (f'{confdir}/master.cf, line 2: field "wakeup": bad value: "5x"'
            in proc.stderr)


def test_master_cf_unknown_type_is_shown(confdir):
    confdir.write_master("smtp inet n - y - - smtpd\nodd bogus - - - - - x\n")
    proc = postconf(confdir, "-M")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[1].startswith("odd        bogus -")
    assert (f"postconf: warning: {confdir}/master.cf, line 2: "
            "unexpected service type: bogus") in proc.stderr


# ---- editing main.cf -------------------------------------------------------

def edited(real, *args):
    proc = postconf(real, *args)
    assert proc.returncode == 0, proc.stderr
    return real.main_cf.read_text()


def test_edit_set(real):
    before = os.stat(real.main_cf)
    after_text = edited(real, "-e", "mynetworks = 127.0.0.0/8",
                        "relayhost=[smtp.example.net]:587",
                        "mydestination=$myhostname",
                        "smtpd_tls_auth_only=yes",
                        "delay_warning_time = 4h")
    assert after_text == golden("edit-e.golden")
    after = os.stat(real.main_cf)
    # Replaced by rename: a new inode, and nothing left behind.
    assert after.st_ino != before.st_ino
    assert sorted(p.name for p in real.path.iterdir()) == \
        ["main.cf", "master.cf"]


def test_edit_without_e_flag(real):
    assert edited(real, "mynetworks = 127.0.0.0/8",
                  "relayhost=[smtp.example.net]:587",
                  "mydestination=$myhostname", "smtpd_tls_auth_only=yes",
                  "delay_warning_time = 4h") == golden("edit-e.golden")


def test_edit_remove(real):
    assert edited(real, "-X", "mynetworks", "smtpd_recipient_restrictions",
                  "no_such_parameter") == golden("edit-X.golden")


def test_edit_comment_out(real):
    assert edited(real, "-#", "mydestination", "mynetworks",
                  "relayhost") == golden("edit-comment.golden")


def test_edit_keeps_mode(real):
    os.chmod(real.main_cf, 0o640)
    edited(real, "-e", "relayhost=[a.example]")
    assert stat.S_IMODE(os.stat(real.main_cf).st_mode) == 0o640


def test_edit_duplicates(confdir):
    confdir.write_main("a = 1\nmyhostname = x\nmyhostname = y\n  cont\nb = 2")
    proc = postconf(confdir, "-e", "myhostname=z", "c=1", "c=2")
    assert proc.returncode == 0
    assert confdir.main_cf.read_text() == \
        "a = 1\nmyhostname = z\nmyhostname = z\nb = 2\nc = 2\n"
    assert f'{confdir}/main.cf: multiple entries for "myhostname"' in \
        proc.stderr
    assert "ignoring earlier request: 'c = 1'" in proc.stderr


def test_edit_empty_value(confdir):
    confdir.write_main("relayhost = x\n")
    proc = postconf(confdir, "-e", "relayhost=", "new_one=")
    assert proc.returncode == 0
    assert confdir.main_cf.read_text() == "relayhost = \nnew_one = \n"


@pytest.mark.parametrize("args,message", [
    (["-e"], "-e requires name=value argument"),
    (["-e", "a"], "missing '=' after attribute name: \"a\""),
    (["-e", "=a"], "missing attribute name: \"=a\""),
    (["mydomain=x", "myhostname"],
     "missing '=' after attribute name: \"myhostname\""),
    (["-X", "a=b"], "specify one of -e -X"),
    (["-e", "a=b\nc"], "value of a contains a line break"),
    (["-e", "a b=c"], 'bad parameter name: "a b"'),
    (["-X"], "-X requires parameter name argument"),
    (["-#"], "-# requires parameter name argument"),
])
def test_edit_errors_leave_file_alone(real, args, message):
    before = real.main_cf.read_text()
    proc = postconf(real, *args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert real.main_cf.read_text() == before


def test_edit_line_too_long(confdir):
    text = "a = " + "x" * (64 * 1024) + "\n"
    confdir.write_main(text)
    proc = postconf(confdir, "-e", "b=1")
    assert proc.returncode == 1
    assert f"{confdir}/main.cf, line 1: line longer than 65536 bytes" in \
        proc.stderr
    assert confdir.main_cf.read_text() == text
    assert sorted(p.name for p in confdir.path.iterdir()) == \
        ["main.cf", "master.cf"]


def test_edit_missing_main_cf(tmp_path):
    proc = run("postconf", "-c", tmp_path, "-e", "a=b")
    assert proc.returncode == 1
    assert (f"open {tmp_path}/main.cf for reading: No such file or directory"
            in proc.stderr)
    assert not (tmp_path / "main.cf").exists()
