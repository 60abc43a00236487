"""The contenders, and the one way each of them is run, timed, and its git processes counted.

Every Ansible contender is the same ``ansible-playbook`` command with the same inventory, environment and
settings (local connection, pipelining, default callback, no facts); only its play differs. The floor is
``floor.sh``: the fewest git commands that do the same work, one checkout after another.

The partial clone group has contenders of its own: the batch task without ``filter`` (``full``), with it
(``partial``), with it and ``sparse`` (``partial_sparse``), ``builtin``, two floors of ``floor.sh`` (a clone then a
checkout, as the module does it, and git's own partial clone) and ``ansible_floor``.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shlex
import signal
import subprocess
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from fixtures import GIT, PARTIAL_CLONE, SPARSE_CONE, Case, Fixtures

HERE = Path(__file__).resolve().parent
FLOOR_SCRIPT = HERE / "floor.sh"
CONTENDERS = ("role", "batch", "builtin", "floor", "ansible_floor")  # in every case but the release layout's
RELEASES = "releases"  # the batch form with layout: releases, beside "batch" in the release layout's cases
ALL_CONTENDERS = (*CONTENDERS, RELEASES)  # the columns of the tables of every group but the partial clone's
FILTER = "blob:none"  # the partial contenders' filter, as floor.sh's clone-filter has it
FLOOR_WORK = {"git_clone": "clone-then-checkout", "git_clone_filter": "clone-filter"}  # floor.sh's work, not the scenario's
PARTIAL_WHAT = {  # what each contender of the partial clone group runs (for the table of its report), in their order
    "full": "`gitops_sync`, batch form, no filter",
    "partial": f"`gitops_sync`, `filter: {FILTER}`",
    "partial_sparse": f"`gitops_sync`, `filter: {FILTER}`, `sparse: [{', '.join(SPARSE_CONE)}]`",
    "builtin": "`ansible.builtin.git` (no filter: a plain clone)",
    "git_clone": "`git clone --no-checkout` + `git checkout`, no Ansible",
    "git_clone_filter": f"`git clone --filter={FILTER}`, no Ansible",
    "ansible_floor": "`ansible-playbook` with one `debug` task",
}
PARTIAL_CONTENDERS = tuple(PARTIAL_WHAT)
ANSIBLE_CONTENDERS = ("role", "batch", "builtin", "ansible_floor", RELEASES, "full", "partial", "partial_sparse")
SYNCING = ("role", "batch", "builtin", "floor", RELEASES, "full", "partial", "partial_sparse", *FLOOR_WORK)  # all but ansible_floor
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TIMEOUT = 3600.0
_RECAP = re.compile(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)

# Logs each call's arguments on one line (%q quotes newlines), then becomes the real git.
_COUNTING_GIT = """#!/bin/bash
# fleetops.gitops benchmark: counts git processes.
printf -v line '%q ' "$@"
printf '%s\\n' "$line" >> {log}
exec {git} "$@"
"""

# Stands in for the module's interpreter: the real one runs as its child, whose peak RSS is then recorded.
_RSS_PYTHON = """#!{python}
# fleetops.gitops benchmark: records the peak RSS (KiB) of the module process (and of the git it waited for).
import resource, subprocess, sys
code = subprocess.call([{python!r}, *sys.argv[1:]])
with open({log!r}, "a", encoding="utf-8") as out:
    out.write(f"{{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}\\n")
sys.exit(code)
"""


def _batch(**options: t.Any) -> dict[str, t.Any]:
    """One gitops_sync task with every checkout of the host; ``options`` at its top level apply to each of them."""
    return {"tasks": [{"name": "Sync every checkout in one call", "fleetops.gitops.gitops_sync": {"checkouts": "{{ bench_checkouts }}", **options}}]}


def play(contender: str) -> list[dict[str, t.Any]]:
    """The play of an Ansible contender; each host's checkouts come from the inventory, as ``bench_checkouts``."""
    work = {
        "role": {"roles": [{"role": "fleetops.gitops.checkouts", "vars": {"checkouts_list": "{{ bench_checkouts }}"}}]},
        "batch": _batch(),
        "full": _batch(),  # the batch contender, beside the partial ones on the same real repository
        "partial": _batch(filter=FILTER),
        "partial_sparse": _batch(filter=FILTER, sparse=list(SPARSE_CONE)),
        RELEASES: {"tasks": [{"name": "Sync every release layout in one call", "fleetops.gitops.gitops_sync": {"checkouts": "{{ bench_releases }}"}}]},
        "builtin": {
            "tasks": [
                {
                    "name": "Sync each checkout",
                    "ansible.builtin.git": {"repo": "{{ item.repo }}", "dest": "{{ item.dest }}", "version": "{{ item.version }}", "force": True},
                    "loop": "{{ bench_checkouts }}",
                    "loop_control": {"label": "{{ item.dest }}"},
                }
            ]
        },
        "ansible_floor": {"tasks": [{"name": "Nothing but Ansible itself", "ansible.builtin.debug": {"msg": "floor"}}]},
    }[contender]
    return [{"name": f"benchmark: {contender}", "hosts": "all", "gather_facts": False, **work}]


class ContenderFailed(RuntimeError):
    """A contender exited non-zero: the benchmark stops, loudly."""


@dataclass
class Run:
    """One run of one contender: wall-clock seconds, tasks changed (Ansible), git subcommands (when counted), and in
    the partial clone group what its checkout takes on disk."""

    seconds: float
    changed: int | None = None
    git_commands: list[str] | None = None
    warnings: list[str] = field(default_factory=list)
    disk_kib: dict[str, int] | None = None


def timed(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = TIMEOUT) -> tuple[float, str]:
    """Wall-clock seconds and output of one command. In a session of its own, so that nothing it started
    outlives an interruption; a non-zero exit raises ContenderFailed."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output = process.communicate(timeout=timeout)[0].decode(errors="replace")
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise ContenderFailed(f"{shlex.join(argv)} exited {process.returncode} after {seconds:.1f}s:\n{tail}")
    return seconds, output


def subcommand(argv: list[str]) -> str:
    """``status`` for ``git --no-optional-locks -C dir status ...``; ``--version`` for ``git --version``."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        del rest[: 2 if rest[0] in ("-c", "-C") else 1]
    return rest[0] if rest else (argv[0] if argv else "")


def changed_tasks(output: str) -> int:
    """Tasks reported changed in the play recap, summed over the hosts."""
    recaps = _RECAP.findall(output)
    if not recaps:
        raise ContenderFailed(f"no play recap in the output:\n{output[-2000:]}")
    return sum(int(changed) for changed, _unreachable, _failed in recaps)


def disk_kib(dests: list[Path]) -> dict[str, int]:
    """What checkouts take on disk, in KiB as ``du`` counts it: their folders, ``.git`` included, and their
    ``.git/objects`` alone (the history, which is what a filter leaves on the server)."""

    def du(paths: t.Iterable[Path]) -> int:  # the last line of -c: "<total>\ttotal"
        return int(subprocess.run(["du", "-skc", *map(str, paths)], capture_output=True, encoding="utf-8", check=True).stdout.split()[-2])

    return {"dest": du(dests), "objects": du(dest / ".git" / "objects" for dest in dests)}


def warnings(output: str) -> list[str]:
    return sorted({line.strip() for line in output.splitlines() if line.startswith(("[WARNING]", "[DEPRECATION WARNING]"))})


class Runner:
    """Runs any contender on any case, with the same command line and environment for every Ansible contender."""

    def __init__(self, work: Path, fixtures: Fixtures, *, ansible_playbook: Path, python: Path, collections: Path) -> None:
        self.work = work
        self.fixtures = fixtures
        self.ansible_playbook = ansible_playbook
        self.python = python
        self.collections = collections
        self.git_log = work / "git-calls.log"
        self.rss_log = work / "rss-kib.log"
        for folder in ("home", "tmp", "ansible-home", "ansible-tmp", "bin", "counting-bin", "cases"):
            (work / folder).mkdir(parents=True, exist_ok=True)
        (work / "ansible.cfg").write_text("# empty: every setting the benchmark makes is in the environment\n")
        self._script(work / "counting-bin" / "git", _COUNTING_GIT.format(log=shlex.quote(str(self.git_log)), git=GIT))
        self.rss_python = self._script(work / "bin" / "python-rss", _RSS_PYTHON.format(python=str(python), log=str(self.rss_log)))
        self.playbooks = {name: self._json(work / f"play-{name}.yml", play(name)) for name in ANSIBLE_CONTENDERS}

    @staticmethod
    def _script(path: Path, text: str) -> Path:
        path.write_text(text)
        path.chmod(0o755)
        return path

    @staticmethod
    def _json(path: Path, data: t.Any) -> Path:
        """Playbooks and inventories are written as JSON, which is YAML too."""
        path.write_text(json.dumps(data, indent=2))
        return path

    def environment(self, count_git: bool) -> dict[str, str]:
        """Nothing inherited that could differ between runs; every Ansible setting explicit, pipelining on.

        TMPDIR, HOME and ANSIBLE_HOME point into the work folder, so whatever a run leaves (the role's
        per-play pin files, Ansible's temp files) goes when the benchmark ends.
        """
        user = getpass.getuser()
        return {
            "PATH": f"{self.work / 'counting-bin'}:{SYSTEM_PATH}" if count_git else SYSTEM_PATH,
            "HOME": str(self.work / "home"),
            "USER": user,
            "LOGNAME": user,
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.work / "tmp"),
            "ANSIBLE_CONFIG": str(self.work / "ansible.cfg"),
            "ANSIBLE_HOME": str(self.work / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.work / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.work / "ansible-tmp"),
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections),
            "ANSIBLE_PIPELINING": "true",
            "ANSIBLE_FORKS": "20",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
        }

    def case_files(self, case: Case, interpreter: Path) -> tuple[Path, Path]:
        """The case's inventory (each host with its checkouts) and the floor's list of ``URL DEST`` lines."""
        folder = self.work / "cases" / f"{case.group.replace(' ', '-')}-{len(case.hosts)}x{case.per_host}-{case.transport}-{interpreter.name}"
        if not folder.exists():
            folder.mkdir()
            checkouts = self.fixtures.checkouts(case)
            hosts = {
                host: {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": str(interpreter),
                    "bench_checkouts": [{"repo": c.url, "dest": str(c.dest), "version": c.version} for c in checkouts if c.host == host],
                    "bench_releases": [{"repo": c.url, "dest": str(c.link), "version": "main", "layout": "releases"} for c in checkouts if c.host == host],
                }
                for host in case.hosts
            }
            self._json(folder / "inventory.json", {"all": {"hosts": hosts}})
            (folder / "floor.list").write_text("".join(f"{c.url} {c.dest}\n" for c in checkouts))
        return folder / "inventory.json", folder / "floor.list"

    def command(self, contender: str, case: Case, interpreter: Path) -> list[str]:
        inventory, floor_list = self.case_files(case, interpreter)
        if contender == "floor" or contender in FLOOR_WORK:
            return ["/bin/sh", str(FLOOR_SCRIPT), FLOOR_WORK.get(contender, case.scenario), str(floor_list)]
        check = ["--check"] if case.scenario == "check" else []
        return [str(self.ansible_playbook), "-i", str(inventory), str(self.playbooks[contender]), *check]

    def run(self, contender: str, case: Case, *, count_git: bool = False, interpreter: Path | None = None) -> Run:
        """Run one contender once on the case's current state."""
        self.git_log.write_text("")
        command = self.command(contender, case, interpreter or self.python)
        seconds, output = timed(command, self.environment(count_git), self.work)
        result = Run(seconds)
        if contender in ANSIBLE_CONTENDERS:
            result.changed = changed_tasks(output)
            result.warnings = warnings(output)
        if count_git:
            commands = [subcommand(shlex.split(line)) for line in self.git_log.read_text().splitlines()]
            result.git_commands = [name for name in commands if name != "upload-pack"]  # the side that serves a local remote
        if case.group == PARTIAL_CLONE and contender in SYNCING:  # before any check can add to it
            result.disk_kib = disk_kib([checkout.dest for checkout in self.fixtures.checkouts(case)])
        return result

    def peak_rss_kib(self, case: Case) -> tuple[int, float]:
        """The batch contender's module process peak RSS on the case, with its interpreter behind the recorder."""
        self.rss_log.write_text("")
        seconds = self.run("batch", case, interpreter=self.rss_python).seconds
        readings = [int(line) for line in self.rss_log.read_text().split()]
        if len(readings) != len(case.hosts):
            raise RuntimeError(f"expected one RSS reading per host, got {readings}")
        return max(readings), seconds
