"""`postfix set-permissions` as root gives the set-gid commands of Postfix's
postfix-files their modes: command_directory/postdrop and postqueue become
root:setgid_group, mode 2755. A symbolic link is refused, never followed.
"""
import grp
import os
import shutil
import stat

import pytest

from conftest import SBIN

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def cmd_dir(instance, tmp_path):
    path = tmp_path / "sbin"
    path.mkdir()
    instance.write_main(command_directory=str(path))
    return path


def test_postdrop_and_postqueue_become_setgid(instance, cmd_dir):
    for name in ("postdrop", "postqueue"):
        shutil.copy(SBIN / "postdrop", cmd_dir / name)
        os.chmod(cmd_dir / name, 0o755)
    proc = instance.postfix("set-permissions")
    assert proc.returncode == 0, proc.stderr
    gid = grp.getgrnam(instance.params["setgid_group"]).gr_gid
    for name in ("postdrop", "postqueue"):
        st = os.stat(cmd_dir / name)
        assert stat.S_IMODE(st.st_mode) == 0o2755, name
        assert (st.st_uid, st.st_gid) == (0, gid), name


def test_missing_command_is_skipped(instance, cmd_dir):
    shutil.copy(SBIN / "postdrop", cmd_dir / "postdrop")
    proc = instance.postfix("set-permissions")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(cmd_dir / "postdrop").st_mode) == 0o2755
    assert not (cmd_dir / "postqueue").exists()


def test_symlink_is_refused(instance, cmd_dir, tmp_path):
    target = tmp_path / "elsewhere"
    shutil.copy(SBIN / "postdrop", target)
    os.chmod(target, 0o755)
    (cmd_dir / "postdrop").symlink_to(target)
    proc = instance.postfix("set-permissions")
    assert proc.returncode != 0
    assert f"open {cmd_dir}/postdrop: " in proc.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o755


def test_check_leaves_modes_alone(instance, cmd_dir):
    shutil.copy(SBIN / "postdrop", cmd_dir / "postdrop")
    os.chmod(cmd_dir / "postdrop", 0o755)
    proc = instance.postfix("check")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(cmd_dir / "postdrop").st_mode) == 0o755
