# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: the exceptions every helper raises; only modules turn them into ``fail_json``."""

from __future__ import annotations

import typing as t


class GitOpsError(Exception):
    """Base of every error this collection raises on purpose.

    ``details()`` gives the extra keys a module adds to ``fail_json`` so that a
    playbook can branch on them without parsing the message. ``revisions`` is
    (desired, actual) as far as they were known when it was raised, for the status.
    """

    revisions: tuple[str | None, str | None] = (None, None)

    def details(self) -> dict[str, t.Any]:
        return {}


class InvalidOption(GitOpsError):
    """A user value that must not reach git: the message names the option."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"{option}: {problem}")
        self.option = option
        self.problem = problem

    def details(self) -> dict[str, t.Any]:
        return {"option": self.option}


class GitNotFound(GitOpsError):
    """The git executable is not installed or not on PATH."""

    def details(self) -> dict[str, t.Any]:
        return {"git_missing": True}  # what the checkouts role keys its "install git" rescue on


class GitCommandError(GitOpsError):
    """A git command failed; carries the (redacted) command, exit code and stderr."""

    def __init__(self, cmd: t.Sequence[str], rc: int | None, stderr: str, summary: str = "") -> None:
        self.cmd = list(cmd)
        self.rc = rc
        self.stderr = stderr
        head = summary or "git command failed"
        if rc is None:  # stopped, or never started: the reason says it all (the command is in cmd)
            text = f"{head}: {stderr.strip()}"
        else:
            text = f"{head}: {' '.join(self.cmd)} (exit code {rc})"
            if stderr.strip():
                text += f": {stderr.strip()}"
        super().__init__(text)

    def details(self) -> dict[str, t.Any]:
        return {"cmd": self.cmd, "rc": self.rc, "stderr": self.stderr}


class DriftUnknown(GitOpsError):
    """Drift cannot be judged (the desired revision, or the checkout, could not be read).

    The error that stopped it, when there was one, is the ``cause``: its keys (``git_missing``, ``cmd``...) are this
    error's, so a playbook branches on them as it would on the cause itself.
    """

    def __init__(self, message: str, cause: GitOpsError | None = None) -> None:
        super().__init__(message)
        self.cause = cause

    def details(self) -> dict[str, t.Any]:
        return self.cause.details() if self.cause is not None else {}


class GitTimeout(GitCommandError):
    """A git command ran past its deadline and was stopped."""


class RefNotFound(GitOpsError):
    """The requested branch, tag or commit does not exist on the remote."""

    def __init__(self, option: str, version: str, repo: str, hint: str = "") -> None:
        message = f"{option}: '{version}' does not exist on {repo}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
        self.option = option

    def details(self) -> dict[str, t.Any]:
        return {"option": self.option}


class DestinationError(GitOpsError):
    """``dest`` cannot be used as asked; nothing there was touched."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option

    def details(self) -> dict[str, t.Any]:
        return {"option": self.option}


class LocalChangesError(GitOpsError):
    """``local_changes=fail`` met modified or untracked files, or commits made in the checkout."""

    def __init__(self, dest: str, found: t.Mapping[str, t.Sequence[str]]) -> None:
        """``found`` lists what the reset would destroy: ``modified``, ``untracked``, ``overwritten`` (ignored files the
        new revision writes over) and ``commits`` (tips of local history), and which edits git hides (``flagged``)."""
        self.modified = list(found.get("modified", ()))
        self.untracked = list(found.get("untracked", ()))
        self.commits = list(found.get("commits", ()))
        self.overwritten = list(found.get("overwritten", ()))
        flagged = list(found.get("flagged", ()))
        parts = []
        if self.modified:
            hidden = f" ({', '.join(flagged)} marked assume-unchanged or skip-worktree)" if flagged else ""
            parts.append(f"modified: {', '.join(self.modified)}{hidden}")
        if self.untracked:
            parts.append(f"untracked: {', '.join(self.untracked)}")
        if self.overwritten:
            parts.append(f"ignored files the new revision would overwrite: {', '.join(self.overwritten)}")
        if self.commits:
            parts.append(f"local commits not on the remote, up to {', '.join(self.commits)}")
        super().__init__(
            f"local_changes=fail: {dest} has local changes ({'; '.join(parts)}); "
            "nothing was changed. Use local_changes=backup to keep them in a backup ref, "
            "or local_changes=discard to drop them."
        )

    def details(self) -> dict[str, t.Any]:
        return {"modified": self.modified, "untracked": self.untracked, "overwritten": self.overwritten, "commits": self.commits}


class HistoryRewritten(GitOpsError):
    """``on_rewrite=fail``: the remote's history no longer contains what was deployed."""

    def __init__(self, dest: str, head: str) -> None:
        super().__init__(
            f"on_rewrite=fail: the history of the remote was rewritten (force-pushed): {dest} is at {head}, which the "
            "new revision does not contain; nothing was changed. Set on_rewrite=follow to follow it (the old commit "
            "is kept in a backup ref)."
        )
        self.head = head

    def details(self) -> dict[str, t.Any]:
        return {"option": "on_rewrite"}


class CorruptCheckout(GitOpsError):
    """git cannot read the checkout's objects or index; nothing was deleted."""

    def __init__(self, dest: str, stderr: str) -> None:
        said = "; ".join(dict.fromkeys(line.strip() for line in stderr.splitlines() if line.strip()))
        super().__init__(
            f"dest: {dest} is damaged, git cannot read it ({said}). Nothing was deleted. To repair, see what is "
            f"missing with 'git -C {dest} fsck --full'; or move the folder aside (mv {dest} {dest}.damaged) and run again "
            "to clone it afresh, then copy back what you need from the damaged copy."
        )
        self.stderr = stderr

    def details(self) -> dict[str, t.Any]:
        return {"option": "dest", "stderr": self.stderr}


class ValidationFailed(GitOpsError):
    """The ``validate`` command refused a new release: it was removed, and ``dest`` stayed where it was."""

    def __init__(self, release: str, cmd: t.Sequence[str], rc: int | None, output: str) -> None:
        self.cmd = list(cmd)
        self.rc = rc
        self.output = output
        why = f"exit code {rc}" if rc is not None else "it could not be started"
        super().__init__(f"validate refused the release of {release} ({why}): {' '.join(self.cmd)}" + (f": {output.strip()}" if output.strip() else ""))

    def details(self) -> dict[str, t.Any]:
        return {"cmd": self.cmd, "rc": self.rc, "validate_output": self.output}
