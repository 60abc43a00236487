# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the filter drivers of the host's git config files, which every git command that may run one switches off.

A filter driver is a program git runs on file contents (``filter.<driver>.clean``/``smudge``/``process``). Its
name must be known to be switched off on the command line (``-c filter.<driver>.process=`` ...), and only the
checkout's own config is read without git: the system and global files are asked, once per process, here.
"""

from __future__ import annotations

import threading
import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError

if t.TYPE_CHECKING:  # pragma: no cover - the runner calls in here; importing it would be a cycle
    from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner

# The commands of ours that may run a filter driver (on files of the working tree); the others never read one.
_MAY_FILTER = frozenset(("status", "checkout", "add", "update-index", "reset", "hash-object", "clone", "worktree"))
_OPTIONS_WITH_VALUE = frozenset(("-C", "-c", "--git-dir", "--work-tree"))


def may_filter(args: t.Sequence[object]) -> bool:
    """Whether ``git <args>`` may run a filter driver: by its subcommand, the first word after git's own options."""
    words = list(args)
    while words and isinstance(words[0], str) and words[0].startswith("-"):
        del words[: 2 if words[0] in _OPTIONS_WITH_VALUE else 1]
    return bool(words) and isinstance(words[0], str) and words[0] in _MAY_FILTER


_HOST_FILTERS: dict[tuple[str, ...], frozenset[str]] = {}
_HOST_FILTERS_LOCK = threading.Lock()
_ASKING = threading.local()


def host_filters(git: GitRunner) -> frozenset[str]:
    """The filter drivers the system and global config files define, for the user git runs as; asked once per process.

    One ``git config`` outside any repository (``GIT_DIR`` names nothing) reads exactly those files and what they
    include, and runs nothing itself. Other threads wait for its answer: none may start git before it is known.
    """
    if getattr(_ASKING, "active", False):
        return frozenset()  # the asking process itself
    env = git.environment()
    key = tuple(env.get(name, "") for name in ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "PREFIX"))
    with _HOST_FILTERS_LOCK:
        if key not in _HOST_FILTERS:
            _ASKING.active = True
            try:
                out = git.run(["config", "--null", "--name-only", "--get-regexp", r"^filter\."], ok=(0, 1), env={"GIT_DIR": "/nonexistent"}).stdout
            finally:
                _ASKING.active = False
            _HOST_FILTERS[key] = drivers_in(out.split("\0"))
        return _HOST_FILTERS[key]


def drivers_in(names: t.Iterable[str]) -> frozenset[str]:
    """Driver names from config key names ``filter.<driver>.<key>``; a name ``-c`` cannot carry is refused.

    The empty name is a driver too (``[filter ""]``, which git runs for the attribute ``filter=``): it is switched
    off as ``filter..process=``. A key with no driver at all (``filter.clean``) names none.
    """
    drivers = set()
    for name in names:
        section, _dot, rest = name.partition(".")
        if section.lower() != "filter" or "." not in rest:
            continue
        driver = rest.rpartition(".")[0]
        if "=" in driver or "\n" in driver:
            raise GitOpsError(
                f"a git filter driver named {driver!r} is configured, and it could not be switched off "
                "on git's command line; nothing was run. Rename it in the git config"
            )
        drivers.add(driver)
    return frozenset(drivers)
