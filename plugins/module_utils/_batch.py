# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: one module call for one checkout or for many, with bounded parallelism and per-item failures."""

from __future__ import annotations

import os
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import git_executable
from ansible_collections.fleetops.gitops.plugins.module_utils._identity import threads_can_run_as
from ansible_collections.fleetops.gitops.plugins.module_utils._status import SyncState, SyncStatus
from ansible_collections.fleetops.gitops.plugins.module_utils._text import strip_prefix
from ansible_collections.fleetops.gitops.plugins.module_utils._url import public_url, secrets_in

DEFAULT_PARALLEL = 8
# Options that shape the call itself; every other top-level option is a default for each checkout.
BATCH_OPTIONS = ("checkouts", "parallel", "allow_partial_failure", "resolve_on_controller")
_LISTED_FAILURES = 5
# The option naming the version a checkout is asked for, in the module whose path option is the key.
_VERSION_OPTIONS = {"dest": "version", "path": "branch"}


@dataclass
class ItemOutcome:
    """One checkout's outcome: ``key`` (its absolute path) keys the facts."""

    key: str
    result: dict[str, t.Any]
    warnings: list[str] = field(default_factory=list)


@dataclass
class TaskOutcome:
    """What the module hands to exit_json (or, when ``failed``, to fail_json with ``msg``)."""

    result: dict[str, t.Any]
    warnings: list[str] = field(default_factory=list)
    failed: bool = False
    msg: str = ""


Task = t.Callable[[t.Mapping[str, t.Any], bool, bool], ItemOutcome]


def secrets_in_params(params: t.Mapping[str, t.Any]) -> set[str]:
    """Credentials in any ``repo`` URL of the call, for the module's no_log values."""
    repos = [params.get("repo")] + [item.get("repo") for item in params.get("checkouts") or []]
    return {secret for repo in repos if repo for secret in secrets_in(repo)}


def execute(task: Task, params: t.Mapping[str, t.Any], *, key: str, check_mode: bool, diff: bool) -> TaskOutcome:
    """Run ``task`` for the single form, or for every item of ``checkouts``.

    A failing checkout is reported with an ERROR status in the facts, so that a
    report sees it; in the batch form the others go on.
    """
    if not params.get("checkouts"):
        item = _guarded(task, params, key, check_mode, diff)
        outcome = TaskOutcome(dict(item.result, ansible_facts=_facts([item])), item.warnings)
        if item.result.get("failed"):
            outcome.failed, outcome.msg = True, outcome.result.pop("msg")
            outcome.result.pop("failed")
        return outcome
    specs = _item_specs(params, key)
    git_executable()

    def one(spec: dict[str, t.Any]) -> ItemOutcome:
        return _guarded(task, spec, key, check_mode, diff)

    parallel = params.get("parallel") or DEFAULT_PARALLEL
    if parallel == 1 or (not threads_can_run_as() and any(spec.get("owner") or spec.get("group") for spec in specs)):
        items = [one(spec) for spec in specs]  # in this thread, the only one
    else:
        with ThreadPoolExecutor(max_workers=min(parallel, len(specs))) as pool:
            items = list(pool.map(one, specs))
    for item in items:
        item.result[key] = item.key
    return _combine(items, key, bool(params.get("allow_partial_failure")))


def _item_specs(params: t.Mapping[str, t.Any], key: str) -> list[dict[str, t.Any]]:
    """Each checkout's options: its own values, else the call's top-level ones."""
    defaults = {name: value for name, value in params.items() if name not in BATCH_OPTIONS and value is not None}
    specs, seen = [], {}
    for number, item in enumerate(params["checkouts"], start=1):
        spec = dict(defaults, **{name: value for name, value in item.items() if value is not None})
        path = os.path.abspath(os.path.expanduser(spec[key]))
        for form in dict.fromkeys((path, os.path.realpath(path))):
            if form in seen:
                raise InvalidOption("checkouts", f"item {number}: {key} {path} appears more than once (item {seen[form]})")
            seen[form] = number
        specs.append(spec)
    _refuse_nesting(seen, key)
    return specs


def _refuse_nesting(numbers: dict[str, int], key: str) -> None:
    """A checkout inside another one is that one's untracked files: each run would undo the other's work."""
    for path, number in numbers.items():
        parent = os.path.dirname(path)
        while parent != os.path.dirname(parent):
            if parent in numbers and numbers[parent] != number:
                raise InvalidOption("checkouts", f"item {number}: {key} {path} is inside item {numbers[parent]}'s {key} {parent}; checkouts must not nest")
            parent = os.path.dirname(parent)


def _guarded(task: Task, spec: dict[str, t.Any], key: str, check_mode: bool, diff: bool) -> ItemOutcome:
    """Run one item; a failure becomes that item's result, with an ERROR status for the facts."""
    path = os.path.abspath(os.path.expanduser(spec[key]))
    try:
        item = task(spec, check_mode, diff)
    except GitOpsError as error:
        message, details, (desired, actual) = str(error), error.details(), error.revisions
    except Exception as error:  # pylint: disable=broad-exception-caught  # one bad item must not sink the rest
        message, details, (desired, actual) = f"unexpected {type(error).__name__}: {error}", {}, (None, None)
    else:
        item.result["status"].update(_asked(spec, key))
        return item
    status = dict(SyncStatus(SyncState.ERROR, desired, actual, drift_details=[message]).to_dict(), **_asked(spec, key))
    return ItemOutcome(path, dict(details, changed=False, failed=True, msg=message, status=status))


def _asked(spec: t.Mapping[str, t.Any], key: str) -> dict[str, str | None]:
    """What the checkout was asked to be, for its status: a report reads statuses only, never the arguments (they may
    hold credentials), so the repository comes without any (``RepoUrl.public``), the version as given."""
    repo, version = spec.get("repo"), spec.get(_VERSION_OPTIONS[key])
    if isinstance(version, str):  # resolve_on_controller and a lockfile pin main as refs/heads/main: the name is what was asked
        version = strip_prefix(strip_prefix(version, "refs/heads/"), "refs/tags/")
    return {"repo": public_url(repo) if repo else None, "version": version}


def _combine(items: list[ItemOutcome], key: str, allow_partial: bool) -> TaskOutcome:
    results = [item.result for item in items]
    diffs = [result.pop("diff") for result in results if "diff" in result]
    failed = [result for result in results if result.get("failed")]
    outcome = TaskOutcome(
        {
            "changed": any(result["changed"] for result in results),
            "results": results,
            "ansible_facts": _facts(items),
            # The paths a playbook acts on (restart what changed, page on what drifted), without a Jinja pass over results.
            "changed_checkouts": [item.key for item in items if item.result["changed"]],
            "drifted_checkouts": [item.key for item in items if item.result["status"]["state"] != SyncState.IN_SYNC.name],
        },
        [warning for item in items for warning in item.warnings],
    )
    if diffs:
        outcome.result["diff"] = diffs
    if failed:
        listed = "; ".join(f"{result[key]}: {result['msg']}" for result in failed[:_LISTED_FAILURES])
        more = f" (and {len(failed) - _LISTED_FAILURES} more)" if len(failed) > _LISTED_FAILURES else ""
        summary = f"{len(failed)} of {len(results)} checkouts failed: {listed}{more}"
        if allow_partial:
            outcome.warnings.append(summary)
        else:
            outcome.failed, outcome.msg = True, summary
    return outcome


def _facts(items: list[ItemOutcome]) -> dict[str, t.Any]:
    """``ansible_facts.gitops_status``: every checkout of the call, keyed by its path."""
    return {"gitops_status": {item.key: item.result["status"] for item in items}}
