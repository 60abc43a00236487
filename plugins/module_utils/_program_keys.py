# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: every git config key that can make git run a program, and why none of them ever does here.

The list is git-config(1) (Documentation/config/*.txt) of git 2.30.0 to 2.47.3, read for every key whose value
names a command, a program, a helper, a driver or a hook, or picks one by name; for each, git's source says which
commands consult it. Config files - the system's, the user's, the checkout's own - are not trusted, so each key
has a defence that holds whatever a file sets:

- ``COMMAND_LINE``: given with ``-c`` (read after every file; for these keys the last value wins) with a value
  that runs nothing;
- ``ENVIRONMENT``: an environment variable git prefers to the key;
- ``PER_NAME``: a ``<name>`` key: switched off on the command line for every name a config file uses (filter
  drivers), or made unreachable (the remote is given to git under a random name; a clone refuses a
  ``remote.<remote>`` section in the host's config; a local upload-pack is started as we say);
- ``NOT_CONSULTED``: none of the commands this collection runs reads it (the test plants it and runs them all).

tests/unit/plugins/module_utils/test_program_keys.py has one test per key.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMAND_LINE = "command line"
ENVIRONMENT = "environment"
PER_NAME = "per name"
NOT_CONSULTED = "not consulted"


@dataclass(frozen=True)
class ProgramKey:
    key: str  # as git-config(1) writes it; <name> stands for any subsection
    defence: str
    value: str | None = None  # the harmless value, for COMMAND_LINE; the variable, for ENVIRONMENT
    why: str = ""


KEYS = (
    ProgramKey("core.fsmonitor", COMMAND_LINE, "false", "a hook run on every index read, fetch included"),
    ProgramKey("core.hooksPath", COMMAND_LINE, "/dev/null", "every hook: an empty value would look in /"),
    ProgramKey("init.templateDir", COMMAND_LINE, "", "hooks copied into a new clone (empty: no template)"),
    ProgramKey("core.alternateRefsCommand", COMMAND_LINE, "true", "run by fetch when the repository has alternates"),
    ProgramKey("credential.helper", COMMAND_LINE, "", "an empty value drops every helper of every file, then ours"),
    ProgramKey("credential.<name>.helper", COMMAND_LINE, "", "the same list as credential.helper"),
    ProgramKey("gpg.program", COMMAND_LINE, "gpg"),
    ProgramKey("gpg.openpgp.program", COMMAND_LINE, "gpg"),
    ProgramKey("gpg.x509.program", COMMAND_LINE, "gpgsm"),
    ProgramKey("gpg.ssh.program", COMMAND_LINE, "ssh-keygen"),
    ProgramKey("gc.auto", COMMAND_LINE, "0", "fetch would start gc, which runs gc.recentObjectsHook"),
    ProgramKey("maintenance.auto", COMMAND_LINE, "false", "fetch would start maintenance, which runs gc"),
    ProgramKey("gc.recentObjectsHook", COMMAND_LINE, None, "several values all run: gc never starts (gc.auto=0)"),
    ProgramKey("core.sshCommand", ENVIRONMENT, "GIT_SSH_COMMAND"),
    ProgramKey("core.gitProxy", ENVIRONMENT, "GIT_PROXY_COMMAND", "set empty: no proxy command"),
    ProgramKey("core.askPass", ENVIRONMENT, "GIT_ASKPASS", "set to a program that answers nothing"),
    ProgramKey("core.editor", ENVIRONMENT, "GIT_EDITOR", "set to ':', git's own no-op editor"),
    ProgramKey("sequence.editor", ENVIRONMENT, "GIT_SEQUENCE_EDITOR", "set to ':'"),
    ProgramKey("core.pager", ENVIRONMENT, "GIT_PAGER", "empty, and git --no-pager with no terminal"),
    ProgramKey("pager.<name>", ENVIRONMENT, "GIT_PAGER", "git --no-pager, and output is never a terminal"),
    ProgramKey("filter.<name>.clean", PER_NAME, None, "filter.<name>.process= and .required=false for each driver"),
    ProgramKey("filter.<name>.smudge", PER_NAME, None, "as filter.<name>.clean"),
    ProgramKey("filter.<name>.process", PER_NAME, None, "as filter.<name>.clean"),
    ProgramKey("remote.<name>.uploadpack", PER_NAME, None, "fetch and ls-remote use a random remote name; no other command, a lazy fetch neither"),
    ProgramKey("remote.<name>.vcs", PER_NAME, None, "as remote.<name>.uploadpack; a clone refuses the section"),
    ProgramKey("remote.<name>.url", PER_NAME, None, "as remote.<name>.vcs (not a program: where the helper goes)"),
    ProgramKey("uploadpack.packObjectsHook", PER_NAME, None, "a local upload-pack (clone, fetch, ls-remote) is started with it set to env"),
    ProgramKey("diff.external", NOT_CONSULTED, None, "patch output only: our diffs are --name-status --no-ext-diff"),
    ProgramKey("diff.<name>.command", NOT_CONSULTED, None, "patch output only"),
    ProgramKey("diff.<name>.textconv", NOT_CONSULTED, None, "patch output only, and --no-textconv"),
    ProgramKey("merge.<name>.driver", NOT_CONSULTED, None, "merges only: a sync never merges"),
    ProgramKey("merge.<name>.recursive", NOT_CONSULTED, None, "merges only"),
    ProgramKey("gpg.format", NOT_CONSULTED, None, "signing only (a value git does not know fails verification, runs nothing)"),
    ProgramKey("gpg.ssh.defaultKeyCommand", NOT_CONSULTED, None, "signing only"),
    ProgramKey("remote.<name>.receivepack", NOT_CONSULTED, None, "push only"),
    ProgramKey("receive.procReceiveRefs", NOT_CONSULTED, None, "push only"),
    ProgramKey("alias.<name>", NOT_CONSULTED, None, "an alias never shadows a builtin, and only builtins are run"),
    ProgramKey("help.autoCorrect", NOT_CONSULTED, None, "mistyped commands only"),
    ProgramKey("submodule.<name>.update", NOT_CONSULTED, None, "git submodule only, never run: submodules: true clones each submodule itself"),
    ProgramKey("trailer.<name>.command", NOT_CONSULTED, None, "interpret-trailers and commit --trailer only"),
    ProgramKey("trailer.<name>.cmd", NOT_CONSULTED, None, "interpret-trailers and commit --trailer only"),
    ProgramKey("pull.twohead", NOT_CONSULTED, None, "pull only"),
    ProgramKey("pull.octopus", NOT_CONSULTED, None, "pull only"),
    ProgramKey("interactive.diffFilter", NOT_CONSULTED, None, "add -p and friends only"),
    ProgramKey("diff.tool", NOT_CONSULTED, None, "difftool only"),
    ProgramKey("diff.guitool", NOT_CONSULTED, None, "difftool only"),
    ProgramKey("difftool.<name>.cmd", NOT_CONSULTED, None, "difftool only"),
    ProgramKey("difftool.<name>.path", NOT_CONSULTED, None, "difftool only"),
    ProgramKey("merge.tool", NOT_CONSULTED, None, "mergetool only"),
    ProgramKey("merge.guitool", NOT_CONSULTED, None, "mergetool only"),
    ProgramKey("mergetool.<name>.cmd", NOT_CONSULTED, None, "mergetool only"),
    ProgramKey("mergetool.<name>.path", NOT_CONSULTED, None, "mergetool only"),
    ProgramKey("guitool.<name>.cmd", NOT_CONSULTED, None, "git gui only"),
    ProgramKey("browser.<name>.cmd", NOT_CONSULTED, None, "help -w and instaweb only"),
    ProgramKey("browser.<name>.path", NOT_CONSULTED, None, "help -w and instaweb only"),
    ProgramKey("help.browser", NOT_CONSULTED, None, "help only"),
    ProgramKey("help.format", NOT_CONSULTED, None, "help only"),
    ProgramKey("web.browser", NOT_CONSULTED, None, "help and instaweb only"),
    ProgramKey("man.viewer", NOT_CONSULTED, None, "help only"),
    ProgramKey("man.<name>.cmd", NOT_CONSULTED, None, "help only"),
    ProgramKey("man.<name>.path", NOT_CONSULTED, None, "help only"),
    ProgramKey("instaweb.httpd", NOT_CONSULTED, None, "instaweb only"),
    ProgramKey("instaweb.browser", NOT_CONSULTED, None, "instaweb only"),
    ProgramKey("imap.tunnel", NOT_CONSULTED, None, "imap-send only"),
    ProgramKey("sendemail.validate", NOT_CONSULTED, None, "send-email only"),
    ProgramKey("sendemail.ccCmd", NOT_CONSULTED, None, "send-email only"),
    ProgramKey("sendemail.toCmd", NOT_CONSULTED, None, "send-email only"),
    ProgramKey("sendemail.headerCmd", NOT_CONSULTED, None, "send-email only"),
    ProgramKey("sendemail.smtpServer", NOT_CONSULTED, None, "send-email only"),
    ProgramKey("sendemail.sendmailCmd", NOT_CONSULTED, None, "send-email only"),
    ProgramKey("sendemail.<name>.smtpServer", NOT_CONSULTED, None, "send-email only"),
)

# fsck checks git itself only warns of (FSCK_WARN in fsck.h, 2.30 to 2.47), which transfer.fsckObjects would make
# errors, and that real histories carry (pallets/flask, ohmyzsh): zero-padded modes of old trees, NUL in a commit
# message, an entry naming the null object. The .gitmodules checks and the path checks (.git, .., /) stay errors.
HARMLESS_FSCK_WARNINGS = ("zeroPaddedFilemode", "nulInCommit", "nullSha1")

# What every git process gets on the command line, from the list above and a few that are not about programs.
COMMAND_LINE_OVERRIDES = tuple(
    f"{entry.key}={entry.value}" for entry in KEYS if entry.defence == COMMAND_LINE and entry.value is not None and "<" not in entry.key
) + (
    "transfer.fsckObjects=true",  # objects checked on fetch: refuses a hostile .gitmodules, and every error...
    *(f"fetch.fsck.{check}=warn" for check in HARMLESS_FSCK_WARNINGS),  # ...but what git itself only warns of
    "advice.detachedHead=false",
    "fetch.recurseSubmodules=false",  # submodules are never fetched, nor checked out: their config is never read
    "submodule.recurse=false",
)
# What every git process gets in its environment, over the keys above (GIT_ASKPASS and GIT_SSH_COMMAND are set per run).
ENVIRONMENT_OVERRIDES = {"GIT_EDITOR": ":", "GIT_SEQUENCE_EDITOR": ":", "GIT_PAGER": "", "GIT_PROXY_COMMAND": "", "GIT_SSH_VARIANT": "ssh"}
# A local upload-pack (file:// and paths) reads only the config files, never our -c: it is started with the hook off.
LOCAL_UPLOAD_PACK = "git -c uploadpack.packObjectsHook=env upload-pack"


def filter_overrides(drivers: frozenset[str]) -> tuple[str, ...]:
    """``-c`` values that switch off each filter driver: an empty process disables clean and smudge as well."""
    return tuple(item for driver in sorted(drivers) for item in (f"filter.{driver}.process=", f"filter.{driver}.required=false"))
