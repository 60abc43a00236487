# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release layout's options: refused before any git runs, and the validate command as argv."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._release_options import ReleasePolicy


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"layout": "symlinks"}, "layout"),
        ({"keep_releases": 1}, "keep_releases"),
        ({"releases_dir": "releases"}, "releases_dir"),
        ({"validate": "  "}, "validate"),
        ({"validate": "test 'unclosed"}, "validate"),
        ({"validate": "true\nreboot"}, "validate"),
    ],
)
def test_bad_values_are_refused_by_name(options, option):
    with pytest.raises(InvalidOption) as refused:
        ReleasePolicy(**options)
    assert refused.value.option == option


@pytest.mark.parametrize("path", ["../etc", "/var/log", ".git", ".git/hooks", "a//b", "a/./b", "", "log/.."])
def test_a_shared_path_must_stay_inside_the_release(path):
    with pytest.raises(InvalidOption, match="shared_paths"):
        ReleasePolicy(shared_paths=(path,))


def test_from_params_takes_the_module_options_and_normalises_shared_paths():
    policy = ReleasePolicy.from_params({"layout": "releases", "keep_releases": 3, "shared_paths": ["log/", "public/uploads"], "validate": None})
    assert (policy.releases, policy.keep_releases, policy.shared_paths, policy.validate) == (True, 3, ("log", "public/uploads"), None)


def test_validate_is_argv_without_a_shell_and_percent_s_is_the_release():
    policy = ReleasePolicy(validate="bin/check --root=%s 'two words' ; reboot")
    assert policy.validate_argv("/srv/releases/r1") == ["bin/check", "--root=/srv/releases/r1", "two words", ";", "reboot"]
    assert ReleasePolicy().validate_argv("/x") is None


def test_with_validate_shell_the_path_is_quoted_for_the_shell():
    policy = ReleasePolicy(validate="test -f %s/index.html && echo ok", validate_shell=True)
    assert policy.validate_argv("/srv/it's here") == ["/bin/sh", "-c", "test -f '/srv/it'\"'\"'s here'/index.html && echo ok"]
