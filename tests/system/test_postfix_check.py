"""System tests for the configuration warnings of `postfix check`.

Postfix's `postfix check` runs postconf, so it warns about what postconf
warns about: $names nothing defines, and settings nothing reads, in main.cf
and in master.cf's -o settings, which count as uses of main.cf names.
"""
import re


def config_warnings(proc, etc):
    """The warnings about main.cf and master.cf, with etc shown as @."""
    lines = []
    for line in proc.stderr.splitlines():
        match = re.match(r"postfix/postfix-script: warning: (.*)", line)
        if match and str(etc) in line and "not supported yet" not in line:
            lines.append(match.group(1).replace(str(etc), "@"))
    return sorted(lines)


def test_check_counts_master_cf_references(instance):
    instance.write_main(mua_client_restrictions="permit_sasl_authenticated",
                        lonely="1", myorigin="$undefined_in_main")
    instance.write_master(
        "  indented = 1\n"
        "smtp inet n - y - - smtpd\n"
        "  -o syslog_name=$mua_client_restrictions\n"
        "  -o a=b -o c=$undefined_in_master\n")
    proc = instance.postfix("check")
    assert proc.returncode == 0, proc.stderr
    assert config_warnings(proc, instance.etc) == sorted([
        '@/master.cf: logical line must not start with whitespace: '
        '"  indented = 1"',
        "@/master.cf: undefined parameter: undefined_in_master",
        "@/main.cf: undefined parameter: undefined_in_main",
        "@/main.cf: unused parameter: lonely=1",
        "@/master.cf: unused parameter: a=b",
        "@/master.cf: unused parameter: c=$undefined_in_master",
    ])


def test_check_of_a_clean_configuration_is_quiet(instance):
    instance.write_main(mua_client_restrictions="permit_sasl_authenticated")
    instance.write_master("smtp inet n - y - - smtpd\n"
                          "  -o syslog_name=$mua_client_restrictions\n"
                          "relay unix - - n - - smtp\n")
    instance.write_main(relay_destination_concurrency_limit="2")
    proc = instance.postfix("check")
    assert proc.returncode == 0, proc.stderr
    assert config_warnings(proc, instance.etc) == []
