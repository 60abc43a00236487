# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user git runs as: who owner/group name, the refusals naming the option, and what a child really runs as."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils import _identity
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import RunAs, resolve_run_as, threads_can_run_as

# What a child started with some options really is: uid, gid and every group, as the kernel says.
_ID = ["sh", "-c", "id -u; id -g; id -G"]
# Run as the other user: resolve_run_as where the module does not run as root.
_AS_NOT_ROOT = """
import json, sys
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import resolve_run_as
found = {}
for owner, group in (("root", None), (None, "root"), (sys.argv[1], None), (None, None)):
    try:
        found[f"{owner}/{group}"] = repr(resolve_run_as(owner, group))
    except InvalidOption as error:
        found[f"{owner}/{group}"] = [error.option, str(error)]
print(json.dumps(found))
"""


def _identity_of(**popen: t.Any) -> tuple[int, int, set[int]]:
    out = subprocess.run(_ID, check=True, stdout=subprocess.PIPE, text=True, cwd="/", **popen).stdout.split("\n")
    return int(out[0]), int(out[1]), {int(gid) for gid in out[2].split()}


def _groups_of(user: str) -> tuple[int, ...]:
    """The user's groups as the system's ``id`` tool finds them (primary and supplementary)."""
    return tuple(sorted(int(gid) for gid in subprocess.run(["id", "-G", user], check=True, stdout=subprocess.PIPE, text=True).stdout.split()))


def _other_group(user: str) -> grp.struct_group:
    """A group ``user`` is not in (nor is root, the current user)."""
    for name in ("nogroup", "nobody", "daemon"):
        try:
            group = grp.getgrnam(name)
        except KeyError:
            continue
        if group.gr_gid not in _groups_of(user) and group.gr_gid != os.getegid():
            return group
    pytest.skip("no group to use on this host")
    raise AssertionError  # unreachable


@pytest.fixture
def owner(other_user: str) -> pwd.struct_passwd:
    return pwd.getpwnam(other_user)


def test_no_owner_and_no_group_is_the_current_user() -> None:
    assert resolve_run_as(None, None) is None


def test_the_current_user_and_its_own_group_need_no_run_as() -> None:
    me, my_group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
    assert (resolve_run_as(me, None), resolve_run_as(None, my_group), resolve_run_as(me, my_group)) == (None, None, None)


@pytest.mark.parametrize(
    "owner_name, group_name, option, problem",
    [
        ("no-such-user-here", None, "owner", "there is no user 'no-such-user-here' on this host"),
        ("no-such-user-here", "no-such-group-here", "owner", "there is no user 'no-such-user-here' on this host"),
        (None, "no-such-group-here", "group", "there is no group 'no-such-group-here' on this host"),
        ("root", "no-such-group-here", "group", "there is no group 'no-such-group-here' on this host"),
    ],
)
def test_an_unknown_user_or_group_is_refused_naming_the_option(owner_name: str | None, group_name: str | None, option: str, problem: str) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_run_as(owner_name, group_name)
    assert (caught.value.option, str(caught.value)) == (option, f"{option}: {problem}")
    assert caught.value.__suppress_context__  # no KeyError traceback chained on to the user's message


def test_another_user_runs_with_their_own_group_home_and_groups(owner: pwd.struct_passwd) -> None:
    assert resolve_run_as(owner.pw_name, None) == RunAs(owner.pw_name, owner.pw_uid, owner.pw_gid, owner.pw_dir, _groups_of(owner.pw_name))


def test_a_group_given_replaces_the_users_own_group(owner: pwd.struct_passwd) -> None:
    group = _other_group(owner.pw_name)
    run_as = resolve_run_as(owner.pw_name, group.gr_name)
    supplementary = {gid for gid in _groups_of(owner.pw_name) if owner.pw_name in grp.getgrgid(gid).gr_mem}
    assert run_as == RunAs(owner.pw_name, owner.pw_uid, group.gr_gid, owner.pw_dir, tuple(sorted(supplementary | {group.gr_gid})))


def test_the_current_user_with_another_group_is_another_identity() -> None:
    me = pwd.getpwuid(os.geteuid())
    group = _other_group(me.pw_name)
    supplementary = {gid for gid in _groups_of(me.pw_name) if me.pw_name in grp.getgrgid(gid).gr_mem}
    assert resolve_run_as(None, group.gr_name) == RunAs(me.pw_name, me.pw_uid, group.gr_gid, me.pw_dir, tuple(sorted(supplementary | {group.gr_gid})))


def test_the_environment_is_the_users_home_and_names(owner: pwd.struct_passwd) -> None:
    run_as = resolve_run_as(owner.pw_name, None)
    assert run_as.environment() == {"HOME": owner.pw_dir, "USER": owner.pw_name, "LOGNAME": owner.pw_name}
    assert run_as.ids == (owner.pw_uid, owner.pw_gid)


@pytest.mark.skipif(sys.version_info < (3, 9), reason="Popen's user/group/extra_groups are Python 3.9+")
def test_popen_options_on_3_9_drop_the_child_to_the_user_with_its_groups(owner: pwd.struct_passwd) -> None:
    run_as = resolve_run_as(owner.pw_name, None)
    assert threads_can_run_as() is True
    assert run_as.popen_options() == {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": list(run_as.groups)}
    assert _identity_of(**run_as.popen_options()) == (owner.pw_uid, owner.pw_gid, set(run_as.groups))


def test_popen_options_on_3_8_drop_the_child_in_a_preexec_fn(owner: pwd.struct_passwd, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.8 has no Popen(user=...): the child drops its groups, then its gid, then its uid, before exec."""
    group = _other_group(owner.pw_name)
    run_as = resolve_run_as(owner.pw_name, group.gr_name)
    with monkeypatch.context() as patch:
        patch.setattr(sys, "version_info", (3, 8, 18, "final", 0))
        assert threads_can_run_as() is False
        options = run_as.popen_options()
    assert list(options) == ["preexec_fn"]
    assert _identity_of(**options) == (owner.pw_uid, group.gr_gid, set(run_as.groups))


def _python_for(run_as: RunAs) -> str:
    """A Python the other user can run: ours unless it lives in a folder closed to them (root's home)."""
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3") or ""):
        try:
            if candidate and subprocess.run([candidate, "-c", "pass"], cwd="/", capture_output=True, check=False, **run_as.popen_options()).returncode == 0:
                return candidate
        except OSError:
            continue
    pytest.skip("no Python the other user can run")
    raise AssertionError  # unreachable


def test_only_root_may_run_git_as_another_user(owner: pwd.struct_passwd) -> None:
    """Run as the other user, the module may only be itself: asking for root (or root's group) names ``owner``."""
    run_as = resolve_run_as(owner.pw_name, None)
    collections = Path(_identity.__file__).parents[5]  # the folder that holds ansible_collections/ (links not followed)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(collections), "PYTHONDONTWRITEBYTECODE": "1", **run_as.environment()}
    done = subprocess.run(
        [_python_for(run_as), "-c", _AS_NOT_ROOT, owner.pw_name], cwd="/", env=env, capture_output=True, text=True, check=True, **run_as.popen_options()
    )
    assert json.loads(done.stdout) == {
        "root/None": ["owner", "owner: git can run as 'root' only when the module runs as root (use become)"],
        "None/root": ["owner", f"owner: git can run as '{owner.pw_name}' only when the module runs as root (use become)"],
        f"{owner.pw_name}/None": "None",
        "None/None": "None",
    }
