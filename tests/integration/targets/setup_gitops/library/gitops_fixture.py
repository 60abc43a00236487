#!/usr/bin/python
# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only module: upstream repositories to commit to, tree digests, and a git process counter."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gitops_fixture
short_description: Test fixtures for fleetops.gitops (not shipped for use)
description: Creates upstream repositories, commits, tags, submodules and rewrites history in them, digests trees, counts git processes.
options:
  action:
    description: What to do.
    type: str
    required: true
    choices: [upstream, commit, tag, rewrite, submodule, digest, counter, count, describe]
  path:
    description: Repository, tree or counter folder.
    type: path
    required: true
  files:
    description: Files to write before committing (name to content).
    type: dict
    default: {}
  name:
    description: Tag name; with O(action=submodule), the submodule's path.
    type: str
  url:
    description: With O(action=submodule), its URL in C(.gitmodules).
    type: str
  source:
    description: With O(action=submodule), the repository whose HEAD is recorded.
    type: path
author: fleetops.gitops developers (@fleetops)
"""

import hashlib
import os
import shutil
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule

_IDENTITY = {
    "GIT_AUTHOR_NAME": "Upstream",
    "GIT_AUTHOR_EMAIL": "upstream@example.invalid",
    "GIT_COMMITTER_NAME": "Upstream",
    "GIT_COMMITTER_EMAIL": "upstream@example.invalid",
}


def _git(path, *args):
    env = dict(os.environ, **_IDENTITY)
    return subprocess.run(["git", "-C", path, *args], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def _commit(path, files, message):
    for name, content in files.items():
        target = os.path.join(path, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(content)
    _git(path, "add", "--all")
    _git(path, "commit", "--quiet", "--allow-empty", "-m", message)
    return _git(path, "rev-parse", "HEAD")


def _digest(path):
    """Hash of every entry under ``path`` (.git included): name, mode, size, mtime and content."""
    digest = hashlib.sha256()
    count = 0
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(root, name)
            info = os.lstat(full)
            digest.update(f"{os.path.relpath(full, path)}\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
            if stat.S_ISREG(info.st_mode):
                with open(full, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
            count += 1
    return digest.hexdigest(), count


def main():
    module = AnsibleModule(
        argument_spec={
            "action": {
                "type": "str",
                "required": True,
                "choices": ["upstream", "commit", "tag", "rewrite", "submodule", "digest", "counter", "count", "describe"],
            },
            "path": {"type": "path", "required": True},
            "files": {"type": "dict", "default": {}},
            "name": {"type": "str"},
            "url": {"type": "str"},
            "source": {"type": "path"},
        }
    )
    action, path = module.params["action"], module.params["path"]
    result = {"changed": action not in ("digest", "count", "describe")}
    if action == "upstream":
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["git", "init", "--quiet", "--initial-branch=main", path], check=True)
        files = module.params["files"] or {"app.conf": "setting = 1\n", "README": "upstream\n", ".gitignore": "*.log\n"}
        result["sha"] = _commit(path, files, "initial")
    elif action == "commit":
        files = module.params["files"] or {f"change-{_git(path, 'rev-list', '--count', 'HEAD')}.txt": "new\n"}
        result["sha"] = _commit(path, files, "change")
    elif action == "tag":
        _git(path, "tag", "-a", "-m", module.params["name"], module.params["name"])
        result["sha"] = _git(path, "rev-parse", "HEAD")
    elif action == "rewrite":
        _git(path, "reset", "--quiet", "--hard", "HEAD~1")
        result["sha"] = _commit(path, {"rewritten.txt": "rewritten\n"}, "rewritten history")
    elif action == "submodule":  # record source's HEAD at name, with url in .gitmodules, as git submodule add does
        _git(path, "config", "--file", ".gitmodules", f"submodule.{module.params['name']}.path", module.params["name"])
        _git(path, "config", "--file", ".gitmodules", f"submodule.{module.params['name']}.url", module.params["url"])
        _git(path, "add", ".gitmodules")
        _git(path, "update-index", "--add", "--cacheinfo", f"160000,{_git(module.params['source'], 'rev-parse', 'HEAD')},{module.params['name']}")
        _git(path, "commit", "--quiet", "-m", f"submodule {module.params['name']}")
        result["sha"] = _git(path, "rev-parse", "HEAD")
    elif action == "describe":
        branch = subprocess.run(["git", "-C", path, "symbolic-ref", "--quiet", "--short", "HEAD"], stdout=subprocess.PIPE, text=True, check=False)
        tags = _git(path, "for-each-ref", "--format=%(refname:short) %(*objectname)%(objectname)", "refs/tags/")
        result.update(
            head=_git(path, "rev-parse", "HEAD"),
            branch=branch.stdout.strip() or None,
            tags={line.split()[0]: line.split()[1][:40] for line in tags.splitlines()},
        )
    elif action == "digest":
        result["digest"], result["entries"] = _digest(path) if os.path.exists(path) else ("absent", 0)
    elif action == "counter":
        os.makedirs(path, exist_ok=True)
        log = os.path.join(path, "git.log")
        real = shutil.which("git")
        with open(os.path.join(path, "git"), "w", encoding="utf-8") as handle:
            handle.write(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
        os.chmod(os.path.join(path, "git"), 0o755)
        open(log, "w", encoding="utf-8").close()
        result.update(bin=path, log=log)
    else:
        log = os.path.join(path, "git.log")
        with open(log, encoding="utf-8") as handle:
            result["commands"] = [line for line in handle.read().splitlines() if line]
        open(log, "w", encoding="utf-8").close()
        result["processes"] = len(result["commands"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
