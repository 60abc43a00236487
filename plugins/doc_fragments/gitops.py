# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation shared by the modules, next to the argument spec in module_utils/_argspec.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  repo:
    description:
      - URL of the repository - https, ssh (C(ssh://) or C(user@host:path)), git, C(file://) - or a local path.
    type: str
  revision:
    description:
      - The full commit SHA the branch or tag must be at, resolved once elsewhere - for example on the controller
        by O(resolve_on_controller). The remote is then not asked where the branch or tag points.
      - A host whose remote does not have this commit fails with a message that names it.
    type: str
  remote:
    description:
      - Name of the checkout's remote that points at O(repo).
      - A new clone names its remote this way; an existing checkout must already have it.
    type: str
    default: origin
  local_changes:
    description:
      - What to do with what the reset of the checkout would destroy - local changes (tracked files modified, staged
        or deleted, edits hidden by C(assume-unchanged) or C(skip-worktree), untracked files that are not ignored,
        and ignored files the new revision would overwrite) and local commits (on HEAD, or on the local branch the
        sync moves) that the new revision does not contain.
      - V(backup) saves them first in one commit under C(refs/gitops/backups/), named in the result's C(backup_ref);
        its tree is the working tree as found, its first parent HEAD, its second the index as it was (the staged
        content), and any further parent a local commit the sync leaves behind. Restore a file with
        C(git -C DEST checkout BACKUP_REF -- FILE), its staged version with C(git -C DEST checkout BACKUP_REF^2 -- FILE),
        all of them with C(git -C DEST restore --source BACKUP_REF --worktree -- .); list backups with
        C(git -C DEST for-each-ref refs/gitops/backups/). A backup of local commits alone is the commit itself.
      - V(discard) drops them, as C(git reset --hard) followed by C(git clean -d --force) would.
      - V(fail) stops, lists them, and changes nothing.
      - Other ignored files and nested git repositories are never touched.
    type: str
    choices: [backup, discard, fail]
    default: backup
  timeout:
    description:
      - Seconds the whole operation on one checkout may take, network included.
      - A git command still running at the deadline is stopped and the checkout fails; git never waits for a prompt.
    type: float
    default: 300
  owner:
    description:
      - The user the checkout belongs to. git runs as this user (with their C(HOME), so their SSH keys and git
        configuration apply), so every file it writes is theirs; folders the module creates are theirs too.
      - Needs the module to run as root (C(become)), unless it already runs as this user.
      - Without it, a checkout that belongs to another user fails, as git refuses to work in it.
    type: str
  group:
    description:
      - The group git runs with; defaults to O(owner)'s primary group.
    type: str
  allowed_transports:
    description:
      - The transports git may use, given to git itself (C(GIT_ALLOW_PROTOCOL)), so that neither O(repo) nor
        anything the remote or a checkout's config says can make git use another (C(ext::), C(fd::), plain http...).
      - Narrow it for production, for example to V([https]) or V([ssh]); V(file) covers local paths too.
    type: list
    elements: str
    choices: [https, ssh, git, file]
    default: [https, ssh, git, file]
  username:
    description:
      - User name for https. With O(token) and no O(username), V(x-access-token) is used.
    type: str
  password:
    description:
      - Password for https. It reaches git through a credential helper of the run and its environment; never through
        the URL, the command line (visible in C(/proc)) or C(.git/config), and it is masked in all output.
      - It is given only to the origin (scheme, host and port) of O(repo); a server that redirects elsewhere gets
        nothing (see O(follow_redirects)).
    type: str
  token:
    description:
      - An access token for https, handed to git as the password (see O(password)).
    type: str
  ssh_key:
    description:
      - The text of an SSH private key (for example read on the controller with the C(ansible.builtin.file) lookup,
        or from a vault). It is written to a 0600 file in a private temporary folder for the run and removed afterwards,
        whatever happens; the checkout's and the user's SSH agent and keys are not used then.
    type: str
  known_hosts:
    description:
      - Lines of an SSH C(known_hosts) file that the remote's host key must match. Without it the user's
        C(~/.ssh/known_hosts) is used. Host keys are always checked strictly, unless O(accept_newhostkey=true).
    type: str
  accept_newhostkey:
    description:
      - Accept (and record) the host key of an SSH server seen for the first time; a changed key still fails.
    type: bool
    default: false
  retries:
    description:
      - How many more times a network operation is tried after a transient failure (refused or reset connection,
        HTTP 5xx, a remote that hung up), waiting 1, 2, 4... seconds, within O(timeout). Permanent failures
        (authentication, not found, host key) are not retried.
    type: int
    default: 2
  lock_timeout:
    description:
      - Only one run works on a checkout at a time. Seconds to wait for another run to finish before failing.
    type: float
    default: 60
  on_rewrite:
    description:
      - What to do when the remote's history was rewritten (force-pushed), so that the new revision does not contain
        the one deployed. V(follow) goes to the new revision and keeps the old commit in a backup ref; V(fail) stops
        and changes nothing.
    type: str
    choices: [follow, fail]
    default: follow
  verify_commit:
    description:
      - Refuse to deploy unless it is signed by a key from O(gpg_keys) or O(allowed_signers). V(commit) checks the
        commit's signature, V(tag) the tag's (O(version) must be an annotated tag), V(both) both. A signed tag on an
        unsigned commit passes V(tag) but not V(commit) or V(both).
      - Verdicts come from git's exit codes and signature status (C(%G?)); only a good signature by a given key
        counts - unknown, untrusted, expired or revoked keys fail.
    type: str
    choices: [none, commit, tag, both]
    default: none
  gpg_keys:
    description:
      - ASCII-armored OpenPGP public keys whose signatures count for O(verify_commit). They are trusted in a private
        keyring for the run; the host's keyrings play no part.
    type: list
    elements: str
  allowed_signers:
    description:
      - The text of an SSH C(allowed_signers) file (see the ssh-keygen manual) whose keys count for O(verify_commit).
        The host's and the checkout's own signer settings play no part.
    type: str
  keep_backups:
    description:
      - How many backup refs (under C(refs/gitops/backups/)) to keep. A run that changes the checkout first removes
        all but the newest O(keep_backups), then makes its own, so at most O(keep_backups) plus one remain.
      - Unset (the default), every backup is kept and C(.git) grows with each one; check mode lists what would go.
    type: int
    version_added: 1.1.0
  backup_max_age:
    description:
      - A run that changes the checkout removes backup refs older than this many days, dated by their names.
      - Unset (the default), backups do not expire. With O(keep_backups), a backup goes when either says so.
    type: int
    version_added: 1.1.0
  sparse:
    description:
      - A sparse checkout in cone mode - the work tree holds these folders (each with everything in it) and the files
        directly in the root folder and in each folder on the way to one; the rest of the tree is never written.
        For example V([config, app/static]).
      - Folders only, relative to the top of the repository, such as V(config) or V(app/static) - no patterns, no
        V(..), no C(.git); a folder inside another listed one adds nothing.
      - A different list, or a checkout made sparse by other means, is a change (drift in M(fleetops.gitops.gitops_drift)),
        predicted in check mode. Files outside the folders are not drift, and C(--diff) lists only files inside them.
        Local changes in a folder that leaves the list follow O(local_changes), as any other.
      - Unset (the default), the whole tree; a sparse checkout made by an earlier run becomes whole again.
      - Only with O(layout=checkout).
    type: list
    elements: str
    version_added: 1.1.0
  filter:
    description:
      - Make the clone a partial clone with this filter - the history's file contents (V(blob:none)), also its folder
        listings (V(tree:0)), or the files larger than a size (V(blob:limit=1m), in bytes or with a V(k), V(m) or V(g)
        suffix) stay on the server until a checkout needs them. Every later fetch of the checkout uses the filter too.
      - What a checkout needs that the filter left out - the files of the revision, only those of the O(sparse) folders
        in a sparse checkout, and with V(tree:0) its folder listings - is fetched before git writes the work tree,
        by the same fetch as every other one (credentials, deadline, allowed transports). git never fetches anything
        by itself - its "lazy fetch", which would use the remote as the checkout's git config names it - so check
        mode and drift reports never write into C(.git), and a git command that would need a missing object fails instead.
      - Set at the clone. On a partial clone a different filter is used from the next fetch on; a full clone stays full.
      - The server must allow filters (C(uploadpack.allowFilter), on by default at the big hosting services) and git's
        protocol version 2 (git's default since 2.26); without filter support the clone is a full one.
      - Works with a shallow clone, with O(sparse) and with both layouts (the release layout's shared repository is the
        partial clone).
    type: str
    version_added: 1.1.0
  follow_redirects:
    description:
      - What to do when an https server redirects. V(same_origin) follows redirects within the scheme, host and port
        of O(repo) and fails on a redirect to another origin, naming it. V(all) follows those too. V(none) follows none.
      - Credentials are only ever given to the origin of O(repo), whatever this says.
    type: str
    choices: [same_origin, all, none]
    default: same_origin
  checkouts:
    description:
      - Many checkouts in one call, handled in parallel (see O(parallel)). Each item takes the options of the single
        form; an option an item does not set comes from the top level of the call.
      - Each checkout's outcome is in RV(results); C(changed) is true if any checkout changed; the facts hold
        every checkout of the call.
      - A failing checkout does not stop the others; the task fails at the end unless O(allow_partial_failure=true).
    type: list
    elements: dict
  parallel:
    description:
      - How many checkouts of O(checkouts) are handled at the same time.
    type: int
    default: 8
  allow_partial_failure:
    description:
      - With O(checkouts), succeed (with a warning) even when some checkouts failed; their results say why.
    type: bool
    default: false
  resolve_on_controller:
    description:
      - Resolve each distinct O(repo) and branch or tag once per play on the controller (one C(git ls-remote)) and
        hand every host the same commit, so one run deploys one revision fleet-wide and the git server is asked
        once per repository rather than once per host.
      - The controller needs git and access to the repositories; hosts that cannot reach the resolved commit fail
        clearly.
      - A play with a single host resolves nothing on the controller, since that host has no other to agree with
        and asks the remote itself as often, without waiting for the controller first.
      - Only checkouts with O(repo) are resolved on the controller (for M(fleetops.gitops.gitops_drift), which may
        read the URL from the checkout, each host asks the remote itself when O(repo) is not given).
    type: bool
    default: false
  lockfile:
    description:
      - A revision lockfile on the controller (YAML, relative to the playbook's folder) - for each repository (its URL
        as git is given it, without password or token) and version, the commit to deploy, the kind of ref, when it was resolved and by whom.
      - With O(lockfile_mode=update), each distinct O(repo) and version is resolved once per play on the controller,
        as O(resolve_on_controller) does (whatever the number of hosts), every host gets that commit, and the file
        records each commit that is new or moved (a rerun that finds nothing new leaves it as it was; a run in check
        mode records nothing).
      - With O(lockfile_mode=frozen), every host gets the commit the file holds and no remote is asked, so reruns,
        C(--limit) retries and hosts added later deploy the same commits, and promoting an environment is a reviewed
        commit of the file. A repository and version the file lacks fails the task.
      - Checkouts given by commit, or with O(revision), are left as they are; so is a rollback of the release layout.
    type: path
    version_added: 1.1.0
  lockfile_mode:
    description:
      - How O(lockfile) is used - V(update) resolves and records, V(frozen) deploys what it holds.
    type: str
    choices: [update, frozen]
    default: update
    version_added: 1.1.0
notes:
  - Git runs with a C locale and no terminal prompts, and no setting of any config file - the system's, the user's or
    the checkout's own - makes it run a program - hooks, C(core.fsmonitor), C(core.sshCommand), C(core.gitProxy),
    credential helpers, a remote's C(uploadpack), filter drivers (Git LFS included - a checkout gets the pointer
    files), automatic C(git gc) and the rest of the keys of C(git-config) that name one. Objects are checked as they
    are fetched (C(transfer.fsckObjects)). The collection's security guide, C(docs/docsite/rst/guide_security.rst),
    lists every defence and the test that proves it.
  - A checkout left by an interrupted run (lock files, temporary packs, a half-made clone) is repaired by the next
    run, only while no other process uses it; a damaged one (missing or broken objects) is reported, never deleted.
  - A token or password inside an https URL is passed to git through the credential helper, never stored in
    C(.git/config), and masked in every result, warning and error. The module arguments themselves may still
    reach the managed host's syslog; prefer credentials that are not part of the URL.
  - The time of the last sync is kept in C(.git/fleetops-gitops.json) of each checkout.
requirements:
  - git >= 2.29 on the managed host
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description:
      - Read-only, the checkout's C(.git) included; C(changed) predicts the real run exactly.
  diff_mode:
    support: full
    description:
      - Shows the revision and branch before and after, the local changes that would be removed,
        and the files that change between the two revisions when both are known locally.
  action_group:
    support: full
    description:
      - Use C(group/fleetops.gitops.gitops) in C(module_defaults) to set defaults for both modules.
    membership:
      - fleetops.gitops.gitops
  platform:
    support: full
    description:
      - Runs on POSIX hosts with git installed.
    platforms: posix
"""
