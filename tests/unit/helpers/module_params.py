# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper: module parameters as AnsibleModule hands them over, from the modules' own argument specs."""

from __future__ import annotations

import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator


def params(spec: dict[str, t.Any], **given: t.Any) -> dict[str, t.Any]:
    """Module parameters as AnsibleModule would hand them over: validated, defaults filled in."""
    kwargs = {k: v for k, v in spec.items() if k in ("mutually_exclusive", "required_one_of", "required_together")}
    result = ArgumentSpecValidator(spec["argument_spec"], **kwargs).validate(given)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters
