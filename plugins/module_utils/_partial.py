# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: partial clone - a checkout whose history lacks the objects a filter left on the server, fetched when needed.

git fetches a missing object by itself (a "lazy fetch"): ``git fetch <promisor remote>``, with the remote's URL,
upload-pack and helper read from the config files - the one fetch this collection would not control. So no git
command of ours but a fetch of ours (``GitRunner.run``: ``network``) may reach a transport, or start a lazy fetch
where git knows ``GIT_NO_LAZY_FETCH``; what a checkout or a sparse checkout needs is fetched first, here, through
the same fetch as every other one: a random remote name, the URL on the command line, the deadline, the
credentials, the allow-list. A lazy fetch that would still happen fails instead, in check mode too, where it
would have written the checkout's ``.git``.
"""

from __future__ import annotations

import os
import re
import typing as t

from ansible_collections.fleetops.gitops.plugins.module_utils._checkout_state import config_from_git
from ansible_collections.fleetops.gitops.plugins.module_utils._config_file import read_plain_config
from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitCommandError, InvalidOption
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, Remote
from ansible_collections.fleetops.gitops.plugins.module_utils._history import Where
from ansible_collections.fleetops.gitops.plugins.module_utils._sparse import Sparse, in_cone
from ansible_collections.fleetops.gitops.plugins.module_utils._url import RepoUrl

# The filters of git-rev-list(1) a partial clone of a server's checkout is made with; "blob:limit" in bytes, or
# with a k, m or g suffix.
_FILTER = re.compile(r"blob:none|tree:0|blob:limit=[1-9][0-9]{0,15}[kmg]?")
# What upload-pack says to a fetch of objects by name over protocol version 0, and what the user can do about it.
_BY_NAME_REFUSED = "allow request for unadvertised object"
_NEEDS_V2 = (
    "the server does not let a partial clone fetch objects by name: it needs git's protocol version 2 (over ssh, an sshd "
    "that accepts it: AcceptEnv GIT_PROTOCOL) or uploadpack.allowAnySHA1InWant"
)


def filter_spec(option: str, value: str | None) -> str | None:
    """A ``filter`` option checked (None: a full clone) and in the form git writes it back (lower case)."""
    if value is None:
        return None
    spec = value.strip().lower()
    if not _FILTER.fullmatch(spec):
        raise InvalidOption(option, f"must be blob:none, tree:0 or blob:limit=<size> (such as blob:limit=1m), not '{value}'")
    return spec


def complete(git: GitRunner, where: Where, url: RepoUrl, sha: str, cone: tuple[str, ...] | None, *, trees_only: bool = False) -> None:
    """Fetch what checking out ``sha`` needs that is not here: its trees (a ``tree:0`` clone has none), then the
    blobs of its files - only those inside ``cone`` in a sparse checkout, which is what partial clone is for.

    One ``git rev-list`` when nothing is missing; the trees, when missing, come in one fetch, the blobs in another
    (``trees_only``: not the blobs).
    """
    present, missing = _objects(git, where, sha)
    if missing and "" not in present.values():  # the root tree itself is missing: a tree filter
        tree = git.run([*where.args, "cat-file", "commit", sha], env=where.env).stdout.partition("\n")[0].split(" ")[-1]  # "tree <name>"
        _fetch_objects(git, where, url, [tree], what="the trees")
        present, missing = _objects(git, where, sha)
    if trees_only:
        return
    if missing and cone is not None:
        missing = _in_cone(git, where, sha, cone) & missing
    if missing:
        _fetch_objects(git, where, url, sorted(missing), what="the files")


def _objects(git: GitRunner, where: Where, sha: str) -> tuple[dict[str, str], set[str]]:
    """The objects of the commit's tree that are here (object name -> path) and the names of those that are not."""
    out = git.run([*where.args, "rev-list", "--objects", "--missing=print", "--no-walk", "--end-of-options", sha, "--"], env=where.env).stdout
    present: dict[str, str] = {}
    missing: set[str] = set()
    for line in out.splitlines()[1:]:  # the commit first
        if line.startswith("?"):
            missing.add(line[1:])
        else:
            name, _sep, path = line.partition(" ")
            present[name] = path
    return present, missing


def _in_cone(git: GitRunner, where: Where, sha: str, cone: tuple[str, ...]) -> set[str]:
    """The blobs of the files a cone of ``cone`` holds."""
    out = git.run([*where.args, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", sha], env=where.env).stdout
    blobs = set()
    for record in filter(None, out.split("\0")):
        info, _sep, path = record.partition("\t")
        kind, name = info.split(" ")[1:]
        if kind == "blob" and in_cone(path, cone):
            blobs.add(name)
    return blobs


def _fetch_objects(git: GitRunner, where: Where, url: RepoUrl, names: t.Sequence[str], *, what: str) -> None:
    """Fetch objects by name, as git's lazy fetch would (no negotiation, ``blob:none``: a tree comes with its
    subtrees, a blob asked for by name comes whatever the filter), but from ``url`` as every fetch here."""
    summary = f"cannot fetch {what} of the revision from {url.display}"
    args = [*where.args, "-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
    args += ["--recurse-submodules=no", "--filter=blob:none", "--stdin", "--", Remote(url.clean, promisor="blob:none")]
    try:
        git.fetch_names(args, names, env=where.env, summary=summary)
    except GitCommandError as error:
        if _BY_NAME_REFUSED not in error.stderr:
            raise
        raise GitCommandError(error.cmd, error.rc, error.stderr, f"{summary}: {_NEEDS_V2}") from None


def recorded_filter(git: GitRunner, path: str, remote: str) -> str | None:
    """The partial clone filter of ``remote`` in the repository at ``path`` (a work tree, or a bare repository of
    ours); None for a full clone. From the config file itself when it is plain (no git process), else from git."""
    dot_git = os.path.join(path, ".git")
    bare = not os.path.isdir(dot_git)
    plain = read_plain_config(path if bare else dot_git, remote, bare=bare)
    return (plain or config_from_git(git, path, remote)).partial


def cone_of_switch(before: Sparse, after: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The folders whose files a switch from the sparse checkout ``before`` to ``after`` writes (None: every file):
    the switch checks out in the old cone (the whole tree when it was whole), then the new cone is set."""
    if before.foreign or before.folders is None or after is None:
        return None
    return tuple(sorted(set(before.folders) | set(after)))
