# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``mode`` option on a real folder: the drift line it gives, and the chmod through the folder's descriptor."""

from __future__ import annotations

import os
import stat

from ansible_collections.fleetops.gitops.plugins.module_utils._dest_mode import apply_mode, mode_findings


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_folder_with_other_permissions_is_drift_and_is_set(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    assert mode_findings(str(folder), 0o750) == [f"mode of {folder} is 0755, expected 0750"]
    apply_mode(str(folder), 0o750)
    assert _mode(folder) == 0o750 and mode_findings(str(folder), 0o750) == []


def test_no_mode_asked_is_no_drift_and_no_change(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    os.chmod(folder, 0o711)
    assert mode_findings(str(folder), None) == []
    apply_mode(str(folder), None)
    assert _mode(folder) == 0o711
