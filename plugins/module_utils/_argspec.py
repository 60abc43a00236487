# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the modules' argument specs.

The single form and each item of ``checkouts`` take the same options, so one
spec per module serves both; documentation lives in doc_fragments/gitops.py
and in the modules, the defaults in _options.py (and the modules they name).
"""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._access import DEFAULT_RETRIES, REDIRECTS
from ansible_collections.fleetops.gitops.plugins.module_utils._batch import DEFAULT_PARALLEL
from ansible_collections.fleetops.gitops.plugins.module_utils._git import DEFAULT_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils._locks import DEFAULT_LOCK_TIMEOUT
from ansible_collections.fleetops.gitops.plugins.module_utils._options import COMPARE_TO, LOCAL_CHANGES, ON_REWRITE
from ansible_collections.fleetops.gitops.plugins.module_utils._release_options import DEFAULT_KEEP_RELEASES, LAYOUTS
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import MODES
from ansible_collections.fleetops.gitops.plugins.module_utils._url import TRANSPORTS

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
    "keep_backups": {"type": "int"},
    "backup_max_age": {"type": "int"},
    "sparse": {"type": "list", "elements": "str"},
    "filter": {"type": "str"},
}
_SHARED.update(  # the release layout, which a drift report's reconcile keeps too
    layout={"type": "str", "default": "checkout", "choices": list(LAYOUTS)},
    releases_dir={"type": "path"},
    validate={"type": "str"},
    validate_shell={"type": "bool", "default": False},
    shared_paths={"type": "list", "elements": "str", "default": []},
    keep_releases={"type": "int", "default": DEFAULT_KEEP_RELEASES},
)
_SYNC: Spec = dict(
    _SHARED,
    dest={"type": "path", "aliases": ["path"]},
    version={"type": "str", "default": "HEAD", "aliases": ["branch"]},
    depth={"type": "int"},
    mode={"type": "raw"},
    rollback={"type": "bool", "default": False},
    submodules={"type": "bool", "default": False},
)
_DRIFT: Spec = dict(
    _SHARED,
    path={"type": "path", "aliases": ["dest"]},
    branch={"type": "str", "default": "HEAD", "aliases": ["version"]},
    compare_to={"type": "str", "default": "remote", "choices": list(COMPARE_TO)},
    reconcile={"type": "bool", "default": False},
    submodules={"type": "bool", "default": False},
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
            lockfile={"type": "path"},  # both read by the action plugin, on the controller
            lockfile_mode={"type": "str", "default": "update", "choices": ["update", "frozen"]},
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
