# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Processes told apart by PID and start time, described for messages, and found by the folders they use."""

from __future__ import annotations

import os
import subprocess
import typing as t
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._processes import (
    describe,
    processes_using,
    start_time,
    tag_alive,
    this_process,
)


def _stat_fields(pid: int) -> list[str]:
    """Fields 3... of /proc/PID/stat, found by cutting off ``PID (comm) `` as /proc/PID/comm spells the name.

    A child may be in the middle of its exec, its name changing between the two reads: they are read again until
    they agree (bounded).
    """
    for _attempt in range(10000):
        comm = Path(f"/proc/{pid}/comm").read_bytes().rstrip(b"\n")
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        prefix = f"{pid} (".encode() + comm + b") "
        if stat.startswith(prefix):
            return stat[len(prefix) :].decode().split()
    raise AssertionError(f"/proc/{pid}/stat never named /proc/{pid}/comm: {stat!r}")


def _started(pid: int) -> int:
    return int(_stat_fields(pid)[19])  # field 22, starttime


def _no_such_pid() -> int:
    """A PID no process can have: above the kernel's maximum."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


# A shell that says it runs, then waits for its stdin to close: what its name and argv are is then settled.
_READY = ("-c", "echo ready; while read -r line; do :; done")


@pytest.fixture
def spawn() -> t.Iterator[t.Callable[..., subprocess.Popen[bytes]]]:
    """Start ``sleep 300`` (or ``command``) as a real child; every one is killed and reaped afterwards.

    ``ready``: ``command`` is a shell, and it has said it runs. Popen returns once the child has begun its exec,
    before the kernel has set its new name and command line in /proc: a test that reads them waits for this.
    """
    children: list[subprocess.Popen[bytes]] = []

    def start(*command: str, ready: bool = False, **popen: t.Any) -> subprocess.Popen[bytes]:
        if ready:
            command = (command[0], *_READY, *command[1:])
            popen.update(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        child = subprocess.Popen(list(command or ("sleep", "300")), **{"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen})
        children.append(child)
        if ready:
            assert child.stdout.readline() == b"ready\n"
        return child

    yield start
    for child in children:
        child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()


def test_the_start_time_of_a_child_is_field_22_of_its_stat(spawn) -> None:
    child = spawn()
    assert start_time(child.pid) == _started(child.pid)


def test_a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields(spawn, tmp_path: Path) -> None:
    """The name in ``(...)`` is the program's file name, which may hold ``) (`` and spaces; fields are counted after the last ``)``."""
    shell = tmp_path / "a) b (c d"
    shell.symlink_to(subprocess.run(["sh", "-c", "command -v sh"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip())
    child = spawn(str(shell), ready=True)
    assert Path(f"/proc/{child.pid}/comm").read_text() == "a) b (c d\n"
    assert start_time(child.pid) == _started(child.pid)


def test_no_such_process_has_no_start_time() -> None:
    assert start_time(_no_such_pid()) is None


def test_this_process_is_tagged_with_its_pid_and_start_time() -> None:
    assert this_process() == f"{os.getpid()}.{_started(os.getpid())}"
    assert tag_alive(this_process()) is True


def test_a_tag_names_a_live_process_only_with_its_own_start_time(spawn) -> None:
    child = spawn()
    started = _started(child.pid)
    assert tag_alive(f"{child.pid}.{started}") is True
    assert tag_alive(f"{child.pid}.{started + 1}") is False  # the PID was reused by another process
    assert tag_alive(f"{child.pid}.0") is True  # start time unknown when it was made: a live PID is taken as in use


def test_the_tag_of_a_process_that_ended_is_dead(spawn) -> None:
    child = spawn("true")
    child.wait()  # reaped: the PID is free
    assert tag_alive(f"{child.pid}.1") is False
    assert tag_alive(f"{_no_such_pid()}.1") is False
    assert tag_alive(f"{_no_such_pid()}.0") is False


@pytest.mark.parametrize("name", ["", "1234", "abc.1", "1.2.3", "1.-2", "-1.2", " 1.2", "1.2-ab", "0x1.2", "1.2e3"])
def test_a_name_that_is_not_a_tag_is_not_judged(name: str) -> None:
    assert tag_alive(name) is None


def test_a_process_that_is_not_there_is_described_by_its_pid_alone() -> None:
    assert describe(_no_such_pid()) == f"process {_no_such_pid()}"


def test_a_process_is_described_by_its_command_line_on_one_line(spawn) -> None:
    child = spawn("sh", "two\nlines", "tab\tand  spaces", ready=True)
    assert describe(child.pid) == f"process {child.pid} (sh {' '.join(_READY)} two lines tab and spaces)"


def test_a_long_command_line_is_cut_at_120_characters(spawn) -> None:
    child = spawn("sh", "x" * 300, ready=True)
    assert describe(child.pid) == f"process {child.pid} ({' '.join(('sh', *_READY, 'x' * 300))[:120]})"


def test_a_child_whose_working_folder_is_under_a_root_uses_it(spawn, tmp_path: Path) -> None:
    (tmp_path / "busy" / "deeper").mkdir(parents=True)
    (tmp_path / "idle").mkdir()
    at_top = spawn(cwd=tmp_path / "busy")
    deeper = spawn(cwd=tmp_path / "busy" / "deeper")
    assert sorted(processes_using((str(tmp_path / "busy"),))) == sorted([at_top.pid, deeper.pid])
    assert processes_using((str(tmp_path / "busy" / "deeper"),)) == [deeper.pid]
    assert processes_using((str(tmp_path / "idle"),)) == []


def test_a_folder_whose_name_only_begins_like_a_root_is_not_under_it(spawn, tmp_path: Path) -> None:
    (tmp_path / "busy-other").mkdir()
    spawn(cwd=tmp_path / "busy-other")
    assert processes_using((str(tmp_path / "busy"),)) == []


def test_a_child_holding_a_file_open_under_a_root_uses_it(spawn, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "index.lock").write_text("")
    with (tmp_path / "data" / "index.lock").open("rb") as held:
        child = spawn(stdin=held, cwd="/")
    assert processes_using((str(tmp_path / "data"),)) == [child.pid]  # ours closed: only the child holds it


def test_any_of_several_roots_counts_and_this_process_never_does(spawn, tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    child = spawn(cwd=tmp_path / "two")
    with (tmp_path / "one" / "ours").open("w"):  # this process holds a file open under "one"
        assert processes_using((str(tmp_path / "one"), str(tmp_path / "two"))) == [child.pid]
