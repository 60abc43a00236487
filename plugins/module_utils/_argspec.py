# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the modules' argument specs and what one checkout means for each module.

The single form and each item of ``checkouts`` take the same options, so one
spec per module serves both; documentation lives in doc_fragments/gitops.py
and in the modules.
"""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._access import DEFAULT_RETRIES, REDIRECTS, RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import DEFAULT_PARALLEL, ItemOutcome
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import DEFAULT_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import DEFAULT_LOCK_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import MODES, SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils._url import TRANSPORTS
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import LOCAL_CHANGES, ON_REWRITE
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer as CheckoutSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import COMPARE_TO
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as DriftSynchronizer

Spec = t.Dict[str, t.Dict[str, t.Any]]

_SHARED: Spec = {
    "repo": {"type": "str"},
    "revision": {"type": "str"},
    "remote": {"type": "str", "default": "origin"},
    "local_changes": {"type": "str", "default": "backup", "choices": list(LOCAL_CHANGES)},
    "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "allowed_transports": {"type": "list", "elements": "str", "choices": list(TRANSPORTS), "default": list(TRANSPORTS)},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "token": {"type": "str", "no_log": True},
    "ssh_key": {"type": "str", "no_log": True},
    "known_hosts": {"type": "str"},
    "accept_newhostkey": {"type": "bool", "default": False, "no_log": False},
    "retries": {"type": "int", "default": DEFAULT_RETRIES},
    "follow_redirects": {"type": "str", "default": "same_origin", "choices": list(REDIRECTS)},
    "lock_timeout": {"type": "float", "default": DEFAULT_LOCK_TIMEOUT},
    "on_rewrite": {"type": "str", "default": "follow", "choices": list(ON_REWRITE)},
    "verify_commit": {"type": "str", "default": "none", "choices": list(MODES)},
    "gpg_keys": {"type": "list", "elements": "str", "no_log": False},
    "allowed_signers": {"type": "str"},
}
_SYNC: Spec = dict(
    _SHARED,
    dest={"type": "path", "aliases": ["path"]},
    version={"type": "str", "default": "HEAD", "aliases": ["branch"]},
    depth={"type": "int"},
    mode={"type": "raw"},
)
_DRIFT: Spec = dict(
    _SHARED,
    path={"type": "path", "aliases": ["dest"]},
    branch={"type": "str", "default": "HEAD", "aliases": ["version"]},
    compare_to={"type": "str", "default": "remote", "choices": list(COMPARE_TO)},
    reconcile={"type": "bool", "default": False},
)


def _module_spec(options: Spec, identity: tuple[str, ...]) -> dict[str, t.Any]:
    """Top-level options (defaults for every checkout) plus ``checkouts``, whose items inherit them."""
    items = {name: {k: v for k, v in option.items() if k != "default"} for name, option in options.items()}
    for name in identity:
        items[name]["required"] = True
    return {
        "argument_spec": dict(
            options,
            checkouts={"type": "list", "elements": "dict", "options": items},
            parallel={"type": "int", "default": DEFAULT_PARALLEL},
            allow_partial_failure={"type": "bool", "default": False},
            resolve_on_controller={"type": "bool", "default": False},
        ),
        "required_one_of": [(identity[-1], "checkouts")],
        "mutually_exclusive": [(name, "checkouts") for name in identity],
        "supports_check_mode": True,
    }


def sync_module_spec() -> dict[str, t.Any]:
    """AnsibleModule keyword arguments for gitops_sync."""
    spec = _module_spec(_SYNC, ("repo", "dest"))
    spec["required_together"] = [("repo", "dest")]
    return spec


def drift_module_spec() -> dict[str, t.Any]:
    """AnsibleModule keyword arguments for gitops_drift."""
    return _module_spec(_DRIFT, ("path",))


def sync_one(spec: t.Mapping[str, t.Any], check_mode: bool, diff: bool) -> ItemOutcome:
    """gitops_sync for one checkout."""
    sync = CheckoutSynchronizer(
        spec["repo"], spec["dest"], remote=spec["remote"], depth=spec.get("depth"), local_changes=spec["local_changes"],
        timeout=spec["timeout"], owner=spec.get("owner"), group=spec.get("group"), mode=parse_mode(spec.get("mode")),
        access=_access(spec), **_sync_options(spec),
    )
    result = sync.run(spec["version"], revision=spec.get("revision"), check_mode=check_mode, diff=diff)
    return ItemOutcome(sync.dest, result.to_dict(), result.warnings)


def drift_one(spec: t.Mapping[str, t.Any], check_mode: bool, diff: bool) -> ItemOutcome:
    """gitops_drift for one checkout."""
    drift = DriftSynchronizer(
        spec["path"], spec["branch"], compare_to=spec["compare_to"], remote=spec["remote"], repo_url=spec.get("repo"),
        timeout=spec["timeout"], revision=spec.get("revision"), owner=spec.get("owner"), group=spec.get("group"),
        access=_access(spec), sync_options=_sync_options(spec),
    )
    outcome = drift.run(reconcile=spec["reconcile"], check_mode=check_mode, diff=diff, local_changes=spec["local_changes"])
    return ItemOutcome(drift.repo_path, outcome.to_dict(), outcome.warnings)


def _access(spec: t.Mapping[str, t.Any]) -> RemoteAccess:
    return RemoteAccess.from_options(
        transports=spec.get("allowed_transports"), username=spec.get("username"), password=spec.get("password"),
        token=spec.get("token"), ssh_key=spec.get("ssh_key"), known_hosts=spec.get("known_hosts"),
        accept_new_hostkey=bool(spec.get("accept_newhostkey")), retries=spec.get("retries"),
        redirects=spec.get("follow_redirects"),
    )


def _sync_options(spec: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The options of the clone/pull synchronizer that gitops_drift's reconcile uses too."""
    return {
        "signatures": SignaturePolicy(spec.get("verify_commit") or "none", tuple(spec.get("gpg_keys") or ()), spec.get("allowed_signers")),
        "on_rewrite": spec.get("on_rewrite") or "follow",
        "lock_timeout": spec.get("lock_timeout") or DEFAULT_LOCK_TIMEOUT,
    }


def parse_mode(value: t.Any) -> int | None:
    """A folder mode as Ansible users write it: '0750' or '750' (octal text), or an int already converted."""
    if value is None or isinstance(value, int):
        return value
    text = str(value)
    if not text.isdigit() or any(digit in "89" for digit in text) or len(text) > 5:
        raise InvalidOption("mode", f"must be an octal mode such as '0750', not '{text}'")
    return int(text, 8)
