# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Locks live where no other user can plant or hold them, and a lock held too long says who holds it."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import as_user, moved_aside

_HOLD = """
import sys, time
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import CheckoutLock
with CheckoutLock(sys.argv[1], 5):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def planted_lock_folder(other_user: str) -> Path:
    """What another user could make before root's first run: the lock folder of earlier versions, open to all."""
    folder = Path(f"/run/lock/fleetops-gitops-{os.geteuid()}")
    with moved_aside(folder):
        as_user(other_user, "mkdir", "-m", "0777", str(folder))
        yield folder
        shutil.rmtree(folder)


def test_a_lock_folder_another_user_made_first_is_never_used(upstream, tmp_path, planted_lock_folder, other_user):
    """A link in it where root's lock for dest would be: root must not create (or open) the file it points at."""
    dest = tmp_path / "app"
    victim = tmp_path / "created-by-root"
    digest = hashlib.sha256(os.path.realpath(dest).encode()).hexdigest()[:40]
    as_user(other_user, "ln", "-s", str(victim), str(planted_lock_folder / f"{digest}.lock"))
    assert GitOpsSynchronizer(upstream.url, str(dest)).run("main").changed
    assert not victim.exists() and not os.path.lexists(victim)


def test_a_lock_held_too_long_names_its_holder(upstream, tmp_path):
    dest = tmp_path / "app"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(dest)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        shown = " ".join(" ".join(holder.args).split())[:120]  # its command line, cut to 120 (deep paths in CI)
        with pytest.raises(DestinationError, match=rf"process {holder.pid} \({re.escape(shown)}\) holds its lock; waited 0.5s"):
            GitOpsSynchronizer(upstream.url, str(dest), lock_timeout=0.5).run("main")
        assert time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait()
    assert GitOpsSynchronizer(upstream.url, str(dest), lock_timeout=0.5).run("main").changed  # released with its process
