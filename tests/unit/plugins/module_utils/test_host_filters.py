# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's filter drivers: which git commands may run one, their names read from config keys, asked once per process."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import GitOpsError
from ansible_collections.fleetops.gitops.plugins.module_utils._git import GitRunner, Remote
from ansible_collections.fleetops.gitops.plugins.module_utils._host_filters import drivers_in, host_filters, may_filter
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import GitCounter, Upstream

MakeHome = t.Callable[..., Path]


@pytest.fixture
def make_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeHome:
    """A HOME of its own with ``gitconfig`` as its global git config (and no system config): a key never asked before."""
    for name in ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    made = iter(range(100))

    def make(gitconfig: str = "", **files: str) -> Path:
        home = tmp_path / f"home-{next(made)}"
        home.mkdir()
        (home / ".gitconfig").write_text(gitconfig)
        for name, text in files.items():
            (home / name).parent.mkdir(parents=True, exist_ok=True)
            (home / name).write_text(text)
        monkeypatch.setenv("HOME", str(home))
        return home

    return make


def _status(repo: Path) -> None:
    with GitRunner() as git:
        git.run(["-C", str(repo), "status", "--porcelain"])


def _overrides(command: str) -> list[str]:
    """The filter drivers a logged command line switches off."""
    return re.findall(r"-c filter\.(.*?)\.process= -c filter\.\1\.required=false", command)


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["-C", "/srv/app", "status", "--porcelain"],
        ["--no-optional-locks", "-C", "/srv/app", "status"],
        ["-c", "core.quotePath=false", "-C", "/srv/app", "checkout", "--force", "main"],
        ["--git-dir", "/srv/app/.git", "--work-tree", "/srv/app", "reset", "--hard"],
        ["--git-dir=/srv/app/.git", "add", "--all"],
        ["-C", "/srv/app", "update-index", "--refresh"],
        ["hash-object", "-w", "--", "file"],
        ("clone", "--no-checkout", "--", "https://example.com/a.git", "/srv/app"),
    ],
)
def test_a_command_that_may_run_a_filter_is_known_by_its_subcommand(args: t.Sequence[object]) -> None:
    assert may_filter(args) is True


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-C", "/srv/app", "rev-parse", "HEAD"],
        ["--no-optional-locks", "-C", "/srv/app", "ls-files", "-v", "-z", "--"],
        ["-C", "/srv/app", "diff", "--name-status", "HEAD", "main", "--"],
        ["config", "--null", "--name-only", "--get-regexp", r"^filter\."],
        ["fetch", "--", Remote("https://example.com/a.git"), "main"],
        [Remote("file:///srv/status")],
        ["-C", "status"],  # a folder named status: the value of -C
        ["-c", "status", "rev-parse"],
        ["-C", "/srv/app", "log", "--", "status"],  # a word after the subcommand
        ["--git-dir"],
        ["--no-pager"],
    ],
)
def test_a_command_that_never_runs_a_filter_is_known_by_its_subcommand(args: t.Sequence[object]) -> None:
    assert may_filter(args) is False


def test_driver_names_are_read_from_the_keys_of_filter_sections() -> None:
    names = [
        "filter.lfs.clean",
        "filter.lfs.smudge",
        "filter.lfs.required",
        "filter.My.Driver.process",  # a dot in the name: the key is after the last one
        "Filter.upper.clean",  # section names are case-insensitive, subsections not
        "core.bare",
        "remote.origin.url",
        "filterx.a.clean",
        "filter.nosubsection",
        "",
    ]
    assert drivers_in(names) == frozenset({"lfs", "My.Driver", "upper"})
    assert drivers_in(name for name in names) == drivers_in(names)
    assert drivers_in([]) == frozenset()


@pytest.mark.parametrize("driver", ["a=b", "=", "a\nb", "x\n"])
def test_a_driver_name_that_minus_c_cannot_carry_is_refused(driver: str) -> None:
    expected = (
        f"a git filter driver named {driver!r} is configured, and it could not be switched off on git's command line; nothing was run. "
        "Rename it in the git config"
    )
    with pytest.raises(GitOpsError, match=f"^{re.escape(expected)}$"):
        drivers_in(["filter.fine.clean", f"filter.{driver}.clean"])


def test_the_global_config_and_what_it_includes_are_read(make_home: MakeHome) -> None:
    make_home(
        '[filter "x"]\n\tclean = cat\n[include]\n\tpath = more.gitconfig\n[core]\n\tquotePath = false\n',
        **{"more.gitconfig": '[filter "Included.One"]\n\tsmudge = cat\n', ".config/git/config": '[filter "xdg"]\n\tprocess = cat\n'},
    )
    with GitRunner() as git:
        assert host_filters(git) == frozenset({"x", "Included.One", "xdg"})


def test_no_filter_in_any_config_is_an_empty_set(make_home: MakeHome) -> None:
    make_home("[core]\n\tquotePath = false\n")
    with GitRunner() as git:
        assert host_filters(git) == frozenset()


def test_the_host_is_asked_once_per_process_and_every_filtering_command_switches_its_drivers_off(
    make_home: MakeHome, upstream: Upstream, git_counter: GitCounter
) -> None:
    make_home('[filter "x"]\n\tclean = cat\n')
    _status(upstream.path)
    _status(upstream.path)  # another runner, the same environment
    assert git_counter.subcommands() == ["config", "status", "status"]
    assert [_overrides(command) for command in git_counter.commands()] == [[], ["x"], ["x"]]


def test_a_change_to_the_config_after_the_answer_is_not_seen_by_this_process(make_home: MakeHome) -> None:
    home = make_home('[filter "x"]\n\tclean = cat\n')
    with GitRunner() as git:
        assert host_filters(git) == frozenset({"x"})
    (home / ".gitconfig").write_text('[filter "y"]\n\tclean = cat\n')
    with GitRunner() as git:
        assert host_filters(git) == frozenset({"x"})


def test_each_home_is_asked_once(make_home: MakeHome, upstream: Upstream, git_counter: GitCounter, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_home('[filter "x"]\n\tclean = cat\n')
    _status(upstream.path)
    make_home('[filter "y"]\n\tclean = cat\n')
    _status(upstream.path)
    monkeypatch.setenv("HOME", str(first))
    _status(upstream.path)
    assert git_counter.subcommands() == ["config", "status", "config", "status", "status"]
    assert [_overrides(command) for command in git_counter.commands()] == [[], ["x"], [], ["y"], ["x"]]


def test_another_global_config_file_is_asked_again(make_home: MakeHome, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    make_home('[filter "x"]\n\tclean = cat\n')
    with GitRunner() as git:
        assert host_filters(git) == frozenset({"x"})
    (tmp_path / "global.gitconfig").write_text('[filter "z"]\n\tclean = cat\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "global.gitconfig"))
    with GitRunner() as git:
        assert host_filters(git) == frozenset({"z"})


def test_a_command_that_runs_no_filter_asks_nothing(make_home: MakeHome, upstream: Upstream, git_counter: GitCounter) -> None:
    make_home('[filter "x"]\n\tclean = cat\n')
    with GitRunner() as git:
        git.run(["-C", str(upstream.path), "rev-parse", "HEAD"])
    assert git_counter.subcommands() == ["rev-parse"]
    assert _overrides(git_counter.commands()[0]) == []


def test_threads_asking_at_once_wait_for_one_answer(make_home: MakeHome, git_counter: GitCounter) -> None:
    make_home('[filter "x"]\n\tclean = cat\n')
    start = threading.Barrier(8)
    answers: list[frozenset[str]] = []

    def ask() -> None:
        with GitRunner() as git:
            start.wait()
            answers.append(host_filters(git))

    threads = [threading.Thread(target=ask) for _number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (answers, git_counter.subcommands()) == ([frozenset({"x"})] * 8, ["config"])


def test_a_driver_that_cannot_be_switched_off_stops_the_command_before_it_runs(make_home: MakeHome, upstream: Upstream, git_counter: GitCounter) -> None:
    make_home('[filter "a=b"]\n\tclean = cat\n')
    with pytest.raises(GitOpsError, match=r"^a git filter driver named 'a=b' is configured, and it could not be switched off"):
        _status(upstream.path)
    assert git_counter.subcommands() == ["config"]


def _trap(make_home: MakeHome, upstream: Upstream, driver: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A global filter driver ``driver`` that leaves a mark when it runs, named by every file's attributes."""
    marker = tmp_path / f"ran-{driver or 'empty'}"
    home = make_home(f'[filter "{driver}"]\n\tclean = touch {marker}; cat\n')
    (upstream.path / ".git" / "info").mkdir(exist_ok=True)
    (upstream.path / ".git" / "info" / "attributes").write_text(f"* filter={driver}\n")
    (upstream.path / "file0.txt").write_text("edited\n")
    plain = dict(os.environ, HOME=str(home), GIT_CONFIG_NOSYSTEM="1")
    return marker, plain


@pytest.mark.parametrize("driver", ["x", "My.Driver"])
def test_a_host_filter_driver_never_runs(make_home: MakeHome, upstream: Upstream, tmp_path: Path, driver: str) -> None:
    marker, plain = _trap(make_home, upstream, driver, tmp_path)
    with GitRunner() as git:
        git.run(["-C", str(upstream.path), "add", "--", "file0.txt"])
    assert not marker.exists()
    subprocess.run(["git", "-C", str(upstream.path), "add", "--renormalize", "--", "file0.txt"], env=plain, check=True)
    assert marker.exists()  # the trap is live: plain git runs it


def test_a_host_filter_driver_with_an_empty_name_never_runs(make_home: MakeHome, upstream: Upstream, tmp_path: Path) -> None:
    """``[filter ""]`` is a driver git runs for ``filter=`` (an empty value), and ``-c filter..process=`` switches it off."""
    marker, plain = _trap(make_home, upstream, "", tmp_path)
    subprocess.run(["git", "-C", str(upstream.path), "-c", "filter..process=", "add", "--", "file0.txt"], env=plain, check=True)
    assert not marker.exists()  # what the runner would have to give
    refused = ""
    with GitRunner() as git:
        try:
            git.run(["-C", str(upstream.path), "add", "--renormalize", "--", "file0.txt"])
        except GitOpsError as error:  # refusing the name would do too
            refused = str(error)
    assert not marker.exists()
    assert refused == "" or refused.startswith("a git filter driver named '' is configured")


@pytest.mark.parametrize("driver", ["", "x"])
def test_a_checkouts_own_filter_driver_never_runs_in_a_sync(upstream: Upstream, tmp_path: Path, driver: str) -> None:
    """What the owner of a checkout controls: its config, here through an include (so that git, not the plain reader,
    names the drivers), and its attributes. The empty name too: ``filter=`` runs ``[filter ""]``."""
    from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer

    dest = tmp_path / "app"
    GitOpsSynchronizer(upstream.url, str(dest)).run("main")
    marker = tmp_path / "ran"
    (tmp_path / "filters.inc").write_text(f'[filter "{driver}"]\n\tclean = touch {marker}; cat\n\tsmudge = touch {marker}; cat\n')
    with (dest / ".git" / "config").open("a") as config:
        config.write(f"[include]\n\tpath = {tmp_path / 'filters.inc'}\n")
    (dest / ".git" / "info").mkdir(exist_ok=True)
    (dest / ".git" / "info" / "attributes").write_text(f"* filter={driver}\n")
    (dest / "file0.txt").write_text("hand edit\n")
    upstream.commit({"file1.txt": "next\n"})
    for local_changes in ("backup", "discard"):
        (dest / "file0.txt").write_text("hand edit\n")
        GitOpsSynchronizer(upstream.url, str(dest), local_changes=local_changes).run("main")
    assert not marker.exists()
    subprocess.run(["git", "-C", str(dest), "add", "--renormalize", "--", "file0.txt"], check=True)
    assert marker.exists()  # the trap is live: plain git runs it
