"""Shared fixtures for Postern's system tests.

Every test runs programs from the build tree (build/, or $POSTERN_BUILD) in a
temporary directory of its own, as the invoking user, on loopback only.
"""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("POSTERN_BUILD", REPO / "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
SBIN = BUILD / "sbin"
LIBEXEC = BUILD / "libexec"
DATA = pathlib.Path(__file__).resolve().parent / "data"


def command(name):
    """Path of a built command in build/sbin."""
    path = SBIN / name
    if not path.exists():
        pytest.fail(f"{path} is not built; run make first")
    return str(path)


def run(name, *args, input=None, env=None, cwd=None, check=False):
    """Run a built command; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.pop("MAIL_CONFIG", None)
    if env:
        full_env.update(env)
    proc = subprocess.run([command(name), *map(str, args)], input=input,
                          capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} {args} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


class ConfigDir:
    """A temporary configuration directory with main.cf and master.cf."""

    def __init__(self, path):
        self.path = path
        self.main_cf = path / "main.cf"
        self.master_cf = path / "master.cf"
        self.main_cf.write_text("")
        self.master_cf.write_text("")

    def write_main(self, text):
        self.main_cf.write_text(text)

    def write_master(self, text):
        self.master_cf.write_text(text)

    def file(self, name, text):
        """Write a file next to main.cf and return its path."""
        path = self.path / name
        path.write_text(text)
        return path

    def __str__(self):
        return str(self.path)


@pytest.fixture
def confdir(tmp_path):
    """An empty main.cf and master.cf in a temporary directory."""
    directory = tmp_path / "etc"
    directory.mkdir()
    return ConfigDir(directory)


TEST_USER = "postern-test"


@pytest.fixture(scope="session")
def mail_owner():
    """The account an instance's daemons run as: the invoking user, or, for
    a run as root, a system user created for the session and removed after
    it (mail_owner must never be root)."""
    import grp
    import pwd
    import subprocess

    if os.geteuid() != 0:
        yield pwd.getpwuid(os.geteuid()).pw_name
        return
    created_user = created_group = False
    try:
        grp.getgrnam(TEST_USER)
    except KeyError:
        subprocess.run(["groupadd", "--system", TEST_USER], check=True)
        created_group = True
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--gid", TEST_USER, "--shell", "/usr/sbin/nologin",
                        TEST_USER], check=True)
        created_user = True
    yield TEST_USER
    if created_user:
        subprocess.run(["userdel", TEST_USER], check=False,
                       capture_output=True)
    if created_group:
        subprocess.run(["groupdel", TEST_USER], check=False,
                       capture_output=True)


@pytest.fixture
def instance(tmp_path, mail_owner):
    """A Postern instance in a temporary directory, stopped afterwards."""
    from instance import Instance

    inst = Instance(tmp_path / "postern", mail_owner=mail_owner)
    yield inst
    inst.cleanup()
