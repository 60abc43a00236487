# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible's markup in every documentation string ends where its author meant: ``C(...)`` stops at the first ``)``,
so ``C(ssh-keygen(1))`` or ``C(lookup('file', 'x'))`` render broken in ansible-doc and HTML (antsibull-docs' linter
does not see it). The text inside each markup must balance its brackets and quotes."""

from __future__ import annotations

import ast
import re
import typing as t
from pathlib import Path

import pytest
import yaml

from ansible_collections.fleetops.gitops.plugins.module_utils import _options

COLLECTION = Path(_options.__file__).parents[2]
_MARKUP = re.compile(r"\b(?:B|C|E|I|L|M|O|P|RV|U|V)\(([^)]*)\)")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _documents() -> t.Iterator[tuple[str, t.Any]]:
    """(where, parsed YAML) of every DOCUMENTATION, RETURN and ATTRIBUTES block of plugins/, and the role's argument specs."""
    for path in sorted((COLLECTION / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                names = [target.id for target in node.targets if isinstance(target, ast.Name)]
                if names and names[0] in ("DOCUMENTATION", "RETURN", "ATTRIBUTES"):
                    yield f"{path.relative_to(COLLECTION)} {names[0]}", yaml.safe_load(node.value.value)
    for path in sorted(COLLECTION.glob("roles/*/meta/argument_specs.yml")):
        yield str(path.relative_to(COLLECTION)), yaml.safe_load(path.read_text(encoding="utf-8"))


def _strings(value: t.Any) -> t.Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _unbalanced(text: str) -> bool:
    stack: list[str] = []
    for char in text:
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in _PAIRS.values() and (not stack or stack.pop() != char):
            return True
    quotes = {quote: text.count(quote) % 2 for quote in "\"'`"}
    return bool(stack) or quotes['"'] == 1 or quotes["`"] == 1 or (quotes["'"] == 1 and not re.search(r"\w'\w", text))


DOCUMENTS = list(_documents())


def test_every_plugin_and_the_role_are_read():
    assert len(DOCUMENTS) >= 7


@pytest.mark.parametrize("where, document", DOCUMENTS, ids=[where for where, _document in DOCUMENTS])
def test_markup_encloses_whole_values(where, document):
    broken = [match.group(0) for text in _strings(document) for match in _MARKUP.finditer(text) if _unbalanced(match.group(1))]
    assert broken == [], f"{where}: markup cut short at the first ')': {broken}"


@pytest.mark.parametrize("text", ["C(ssh-keygen(1))", "C(\"{{ lookup('ansible.builtin.file', 'deploy_key') }}\")", "V([a, b)"])
def test_the_check_sees_markup_cut_short(text):
    assert any(_unbalanced(match.group(1)) for match in _MARKUP.finditer(text))
