# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""git dies with the module: a module killed with SIGKILL (OOM killer, kill -9) leaves no git running on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

# A module's work in a process of its own, as Ansible runs one: a sync whose remote accepts and never answers.
_MODULE = """
import sys
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
GitOpsSynchronizer(sys.argv[1], sys.argv[2], timeout=600).run("main")
"""

# The same module, killed at the worst moment: the git that talks to the remote has started (Popen returned), but
# its process group is not announced to the watcher yet. The killed git's command goes to the file in argv[3].
_MODULE_KILLED_AT_START = """
import os, signal, subprocess, sys
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
class Popen(subprocess.Popen):
    def __init__(self, args, *more, **options):
        super().__init__(args, *more, **options)
        if any(sys.argv[1] in str(word) for word in args):
            with open(sys.argv[3], "w") as handle:
                handle.write(" ".join(args))
            os.kill(os.getpid(), signal.SIGKILL)
subprocess.Popen = Popen
GitOpsSynchronizer(sys.argv[1], sys.argv[2], timeout=600).run("main")
"""


def _processes_with(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if text.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_git_dies_with_a_module_killed_by_sigkill(servers, tmp_path):
    mark = uuid.uuid4().hex  # in the URL, so in every git process of this run's command line
    url = f"{servers.blackhole_url}/{mark}.git"
    module = _start(_MODULE, url, tmp_path)
    try:
        assert _wait_for(lambda: any(pid != module.pid for pid in _processes_with(mark)), 30), "git never started"
        os.kill(module.pid, signal.SIGKILL)  # the module only: git is in a process group of its own
        module.wait()
        assert _wait_for(lambda: not _processes_with(mark), 15), f"git outlived the module: {_processes_with(mark)}"
    finally:
        _clean_up(module, mark)


def test_git_dies_with_a_module_killed_before_it_announced_git(servers, tmp_path):
    """The window between Popen and the announcement of git's group: under load, a kill lands there (seen in CI)."""
    mark = uuid.uuid4().hex
    url = f"{servers.blackhole_url}/{mark}.git"
    module = _start(_MODULE_KILLED_AT_START, url, tmp_path, str(tmp_path / "killed-at"))
    try:
        assert module.wait(timeout=30) == -signal.SIGKILL, "the module was not killed when git started"
        assert " ls-remote " in (tmp_path / "killed-at").read_text(), "not killed at the git that waits on the remote"
        assert _wait_for(lambda: not _processes_with(mark), 15), f"git outlived the module: {_processes_with(mark)}"
    finally:
        _clean_up(module, mark)


def _start(script: str, url: str, tmp_path: Path, *more: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    return subprocess.Popen([sys.executable, "-c", script, url, str(tmp_path / "app"), *more], env=env, start_new_session=True)


def _clean_up(module: subprocess.Popen, mark: str) -> None:
    for pid in _processes_with(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if module.poll() is None:
        module.kill()
