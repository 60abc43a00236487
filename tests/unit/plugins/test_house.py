# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The house rules of plugins/ that a reviewer would otherwise have to count: short parameter lists, small files,
and a test file beside every file with logic of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _options

PLUGINS = Path(_options.__file__).parents[1]
TESTS = Path(__file__).parent
MAX_PARAMETERS = 6  # self and cls count, *args and **kwargs too: options travel as one typed object
MAX_LINES = 450  # module files and doc fragments, mostly documentation, aside
# Files without a test file of their own, and where they are tested instead.
TESTED_ELSEWHERE = {
    "action/gitops_sync.py": "plugin_utils/test_action.py (the two action plugins are one class)",
    "action/gitops_drift.py": "plugin_utils/test_action.py",
    "modules/gitops_sync.py": "the gitops_sync integration target, and module_utils/test_batch.py for what main() calls",
    "modules/gitops_drift.py": "the gitops_drift integration target, and module_utils/test_batch.py",
    "doc_fragments/gitops.py": "documentation only (ansible-test sanity validate-modules)",
    "module_utils/_argspec.py": "argument specs only: module_utils/test_options.py checks their defaults",
    "module_utils/_item_tasks.py": "module_utils/test_batch.py (sync_one, drift_one)",
    "plugin_utils/_report/__init__.py": "re-exports only",
}


def _python_files() -> list[Path]:
    return sorted(path for path in PLUGINS.rglob("*.py") if "__pycache__" not in path.parts)


def _name(path: Path) -> str:
    return path.relative_to(PLUGINS).as_posix()


def test_no_function_takes_more_than_six_parameters():
    found = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs) + (args.vararg is not None) + (args.kwarg is not None)
                if count > MAX_PARAMETERS:
                    found.append(f"{_name(path)}:{node.lineno} {node.name}() takes {count}")
    assert found == []


def test_no_file_is_over_450_lines():
    long = [
        f"{_name(path)}: {lines} lines"
        for path in _python_files()
        if path.parent.name not in ("modules", "doc_fragments") and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []


@pytest.mark.parametrize("path", [_name(path) for path in _python_files()])
def test_every_file_with_logic_has_a_test_file_of_its_own(path):
    folder, _slash, file = path.rpartition("/")
    mirror = TESTS / folder / f"test_{file.lstrip('_')}"
    assert mirror.is_file() or path in TESTED_ELSEWHERE, f"{path}: no {mirror.relative_to(TESTS)}"
    assert not (mirror.is_file() and path in TESTED_ELSEWHERE), f"{path} has {mirror.name}: take it off TESTED_ELSEWHERE"
