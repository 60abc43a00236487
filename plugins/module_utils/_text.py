# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: str.removeprefix for the managed hosts' Python 3.8, which lacks it.

One helper rather than ``text[len(prefix) :]`` at every call site: that slice is how the formatter writes it, and
galaxy-importer's flake8 run warns on it (E203).
"""

from __future__ import annotations


def strip_prefix(text: str, prefix: str) -> str:
    """``text`` without ``prefix`` when it starts with it, else ``text`` unchanged."""
    return text.partition(prefix)[2] if prefix and text.startswith(prefix) else text
