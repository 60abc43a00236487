# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""strip_prefix: str.removeprefix of Python 3.9, for 3.8 hosts."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        ("refs/heads/main", "refs/heads/", "main"),
        ("refs/tags/refs/heads/x", "refs/heads/", "refs/tags/refs/heads/x"),  # only at the start
        ("refs/heads/refs/heads/x", "refs/heads/", "refs/heads/x"),  # once
        ("main", "", "main"),
        ("refs/heads/", "refs/heads/", ""),
        ("ref", "refs/heads/", "ref"),
    ],
)
def test_strip_prefix_is_removeprefix(text, prefix, expected):
    assert strip_prefix(text, prefix) == expected == text.removeprefix(prefix)
