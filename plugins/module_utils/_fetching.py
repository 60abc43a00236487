# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: bringing a target's commit into a repository - the checkout, or a throwaway peek - the one same way.

Check mode looks at the target in a peek repository with exactly the fetches a real run makes in the checkout,
so that it fails where the real run would (a commit the remote does not have, a tag that points at a blob).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, InvalidOption, RefNotFound
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, Remote
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where, object_type
from ansible_collections.fleetops.gitops.plugins.module_utils._refs import COMMIT, Target
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl

# What a server says of a commit it does not have (upload-pack, by protocol version), rather than a failure to reach it.
_NOT_THERE = re.compile(r"not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not a valid object", re.IGNORECASE)


@dataclass(frozen=True)
class Fetch:
    """How targets come from one URL: under which remote's tracking refs, how deep, and with which partial clone
    filter (None: every object)."""

    git: GitRunner
    url: RepoUrl
    remote: str = "origin"
    depth: int | None = None
    filter: str | None = None

    def target(self, where: Where, target: Target, present: t.Callable[[], bool], *, missing: bool = False) -> None:
        """Fetch the target's ref, then make sure its commit is here (a pinned one may need its SHA).

        ``present()`` says whether the commit is here (the caller's own question, which may tell it more at once);
        ``missing``: it said no already.
        The URL goes to git under a random remote name (see ``Remote``), so no ``remote.*`` section of any config
        file is read. Raises RefNotFound when the remote does not have the commit, InvalidOption when the version
        names something that is not a commit.
        """
        git, url = self.git, self.url
        if target.kind == COMMIT and not missing and present():
            return
        args = [*where.args, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
        if self.depth:
            args += ["--depth", str(self.depth)]
        if self.filter:
            args.append(f"--filter={self.filter}")
        remote = Remote(url.clean, promisor=self.filter)
        summary = f"cannot fetch {target.describe()} from {url.display}"
        if target.kind != COMMIT:
            git.run([*args, "--", remote, target.refspec(self.remote)], summary=summary, network=True, env=where.env)
            if present():
                return
        fetched = git.run([*args, "--", remote, target.sha], ok=(0, 1, 128), summary=summary, network=True, env=where.env)
        if fetched.rc != 0 and not _NOT_THERE.search(fetched.stderr):
            raise GitCommandError(fetched.args, fetched.rc, fetched.stderr, summary)
        if present():
            return
        kind = object_type(git, where, target.sha)
        if kind is not None:
            raise InvalidOption("version", f"{target.describe()} points at a {kind}, not at a commit: there is nothing to check out")
        option = "version" if target.kind == COMMIT else "revision"
        raise RefNotFound(option, target.sha, url.display, "" if target.kind == COMMIT else f"the commit {target.describe()} was resolved to")
