# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One options object per checkout: the modules and the Python API share its defaults and its validation."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._argspec import drift_module_spec, sync_module_spec
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._options import HEAD_TIMEOUT, DriftOptions, SyncOptions, parse_mode
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer as Checkout
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.tests.unit.helpers.module_params import params

# Options whose module default is the Python API's too (the drift API's timeout is the spec's 10 s on purpose).
SHARED_DEFAULTS = ("remote", "local_changes", "on_rewrite", "lock_timeout", "depth", "owner", "group", "mode")


@pytest.mark.parametrize(
    "spec, options, extra",
    [
        (sync_module_spec, SyncOptions, {"repo": "https://example.com/a.git", "dest": "/srv/a"}),
        (drift_module_spec, DriftOptions, {"path": "/srv/a"}),
    ],
)
def test_the_modules_defaults_are_the_python_apis(spec, options, extra):
    from_module = options.from_params(params(spec(), **extra))
    python = options()
    for name in SHARED_DEFAULTS + (("compare_to",) if options is DriftOptions else ()):
        assert getattr(from_module, name) == getattr(python, name), name
    assert from_module.access == python.access and from_module.signatures == python.signatures


def test_the_drift_api_keeps_the_specs_deadline_and_the_modules_keep_theirs():
    assert DriftOptions().timeout == HEAD_TIMEOUT == 10
    assert DriftOptions.from_params(params(drift_module_spec(), path="/srv/a")).timeout == SyncOptions().timeout


def test_zero_is_a_value_not_a_missing_one():
    """``lock_timeout: 0`` means "do not wait", and once turned silently into the 60-second default."""
    options = SyncOptions.from_params(params(sync_module_spec(), repo="https://example.com/a.git", dest="/srv/a", lock_timeout=0))
    assert options.lock_timeout == 0
    assert Checkout("https://example.com/a.git", "/srv/a", options).options.lock_timeout == 0


@pytest.mark.parametrize(
    "option, value",
    [
        ("local_changes", "keep"),
        ("on_rewrite", "merge"),
        ("timeout", 0),
        ("lock_timeout", -1),
        ("depth", 0),
        ("remote", "--upload-pack=x"),
        ("mode", 0o17777),
    ],
)
def test_python_callers_get_the_modules_validation(option, value):
    with pytest.raises(InvalidOption) as caught:
        Checkout("https://example.com/a.git", "/srv/a", **{option: value})
    assert caught.value.option == option


@pytest.mark.parametrize("option, value", [("compare_to", "elsewhere"), ("revision", "main")])
def test_drift_options_are_validated_too(option, value):
    with pytest.raises(InvalidOption) as caught:
        Drift("/srv/a", "main", **{option: value})
    assert caught.value.option == option


def test_an_unknown_keyword_is_a_type_error_as_in_any_python_call():
    with pytest.raises(TypeError, match="colour"):
        Checkout("https://example.com/a.git", "/srv/a", colour="blue")


def test_keywords_change_the_options_given():
    base = SyncOptions(local_changes="fail", depth=1)
    sync = Checkout("https://example.com/a.git", "/srv/a", base, depth=5)
    assert (sync.options.local_changes, sync.options.depth) == ("fail", 5) and base.depth == 1


def test_a_reconcile_syncs_with_the_drift_reports_own_options():
    access = RemoteAccess(username="deploy")
    drift = DriftOptions(local_changes="fail", lock_timeout=0, access=access, compare_to="local", timeout=30)
    sync = drift.sync_options()
    assert isinstance(sync, SyncOptions) and not isinstance(sync, DriftOptions)
    assert (sync.local_changes, sync.lock_timeout, sync.access, sync.timeout) == ("fail", 0, access, 30)


def test_access_and_signatures_are_read_from_the_module_names():
    options = SyncOptions.from_params(
        {"allowed_transports": ["https"], "token": "t0k", "accept_newhostkey": True, "follow_redirects": "none", "verify_commit": "commit", "gpg_keys": ["KEY"]}
    )
    assert options.access == RemoteAccess(transports=("https",), username="x-access-token", password="t0k", accept_new_hostkey=True, redirects="none")
    assert options.signatures == SignaturePolicy("commit", ("KEY",))
    with pytest.raises(InvalidOption, match="token: give either password or token"):
        SyncOptions.from_params({"token": "a", "password": "b"})


@pytest.mark.parametrize("value, mode", [("0750", 0o750), ("750", 0o750), (0o640, 0o640), (None, None)])
def test_modes_as_ansible_users_write_them(value, mode):
    assert parse_mode(value) == mode


@pytest.mark.parametrize("value", ["0789", "rwx", "007777"])
def test_a_mode_that_is_not_octal_is_refused(value):
    with pytest.raises(InvalidOption, match="mode: must be an octal mode"):
        parse_mode(value)
