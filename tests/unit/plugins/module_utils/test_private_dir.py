# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A run's private folder: removed with its run, and the sweep of killed runs' folders removes nothing in use."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PRIVATE_PREFIX = "fleetops-gitops-run-"  # spelled out: the test also runs against versions before the prefix

# A run that needs a private folder (the known_hosts option is written to one), in a new process, so that it sweeps.
_RUN = """
import sys
from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
GitOpsSynchronizer(sys.argv[1], sys.argv[2], access=RemoteAccess.from_params({"known_hosts": "h ssh-ed25519 AAAA"})).run("main")
"""


def _started(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def _dead_pid() -> int:
    """A number no process has, nor can have: above the kernel's PID limit."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 4242


@pytest.fixture
def planted() -> list[Path]:
    made: list[Path] = []
    yield made
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def test_the_sweep_removes_only_folders_of_runs_that_are_gone(upstream, tmp_path, planted):
    base = Path(tempfile.gettempdir())
    dead = _dead_pid()
    me = os.getpid()
    ours_alive = base / f"{PRIVATE_PREFIX}{me}.{_started(me)}-00aa"  # a folder of a live run
    reused = base / f"{PRIVATE_PREFIX}{me}.{_started(me) + 1}-00bb"  # its PID, but another process's start
    gone = base / f"{PRIVATE_PREFIX}{dead}.12345-00cc"  # a run that died
    # Not a run's folder at all, though it has a number where the old sweep read a PID: the controller's pins folder
    # and the temp-folder lock folder of earlier versions (named after a user id), and the old private folders.
    not_runs = [base / f"fleetops-gitops-{dead}", base / f"fleetops-gitops-{dead}-x1y2z3ab", base / f"{PRIVATE_PREFIX}{dead}"]
    for folder in [ours_alive, reused, gone, *not_runs]:
        folder.mkdir()
        (folder / "in-use").write_text("x\n")
        planted.append(folder)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    subprocess.run([sys.executable, "-c", _RUN, upstream.url, str(tmp_path / "app")], env=env, check=True)
    assert (tmp_path / "app" / "file0.txt").exists()
    assert ours_alive.exists() and all(folder.exists() for folder in not_runs)
    assert not gone.exists() and not reused.exists()


def test_a_private_folder_is_private_and_goes_with_its_run(other_user):
    from ansible_collections.fleetops.gitops.plugins.module_utils._private_dir import PrivateDir  # pylint: disable=import-outside-toplevel

    user = pwd.getpwnam(other_user)
    with PrivateDir((user.pw_uid, user.pw_gid)) as folder:
        path = Path(folder.path)
        info = path.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (user.pw_uid, user.pw_gid, 0o700)
        assert path.name.startswith(f"{PRIVATE_PREFIX}{os.getpid()}.{_started(os.getpid())}-")
        written = Path(folder.write("secret", "s3cret\n"))
        assert (written.stat().st_uid, written.stat().st_mode & 0o777) == (user.pw_uid, 0o600)
        with pytest.raises(FileExistsError):
            folder.write("secret", "again\n")  # O_EXCL: nothing that stands there is ever opened
    assert not path.exists()
