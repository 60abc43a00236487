#!/usr/bin/env python3
"""Benchmark of fleetops.gitops: the checkouts role and the batch module against ansible.builtin.git and the floor.

    python benchmarks/run.py            # `make benchmark`: N = 10, 50, 200, a 20-host fleet, git daemon, memory
    python benchmarks/run.py --smoke    # `make benchmark-smoke`: everything once, small, for CI

Contenders, alternating on the same fixtures (reset before every run) so that a drift of the machine hits all alike:
role (fleetops.gitops.checkouts), batch (one gitops_sync task with every checkout), builtin (ansible.builtin.git in
a loop), floor (benchmarks/floor.sh: the fewest git commands, no Ansible) and ansible_floor (ansible-playbook with
one debug task): floor + ansible_floor is the least any Ansible-driven tool can cost. The partial clone group clones
a real repository (node_exporter) with and without ``filter``, beside git's own clones, and weighs each checkout.

Writes benchmark.json, benchmark.md and benchmark.png into benchmarks/results/ (smoke: benchmarks/results/smoke/)
and prints the Markdown. Everything runs in a temporary folder and on 127.0.0.1; the folder and git daemon go
when the run ends, however it ends. A contender that fails, or leaves a checkout out of step, stops the run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass, field, replace
from pathlib import Path

import report
from contenders import ALL_CONTENDERS, CONTENDERS, PARTIAL_CONTENDERS, RELEASES, SYNCING, Run, Runner
from fixtures import GIT, GIT_DAEMON, NODE_EXPORTER, PARTIAL_CLONE, REALWORLD, ROOT, SCENARIOS, Case, Fixtures, GitDaemon, git

VENV = ROOT / ".venv"
INSTALLED = ROOT / ".build" / "collections" / "ansible_collections"
RESULTS = ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Round:
    """One pass over every contender: ``count`` puts the logging git first in PATH; ``timed`` runs make the medians."""

    name: str
    count: bool
    timed: bool


@dataclass(frozen=True)
class Plan:
    """What to measure. A separate counting round also warms the caches, so that no contender runs cold."""

    sizes: tuple[int, ...] = (10, 50, 200)
    repetitions: int = 3
    fleet_hosts: int = 20
    fleet_per_host: int = 10
    fleet_scenarios: tuple[str, ...] = ("noop", "check", "update")
    daemon_size: int = 200
    release_size: int = 50  # checkouts on one host, plain beside the release layout
    release_scenarios: tuple[str, ...] = ("noop", "update")
    memory_sizes: tuple[int, ...] = (10, 50, 200, 1000)
    separate_count_round: bool = True
    out: Path = RESULTS
    only: str = ""  # a regular expression: measure only the cases whose label matches (memory cases too)

    def cases(self) -> list[Case]:
        fleet = tuple(f"host{number:02d}" for number in range(1, self.fleet_hosts + 1))
        return [case for case in self._all_cases(fleet) if re.search(self.only, case.label)]

    def memory_cases(self) -> list[Case]:
        cases = [Case("noop", ("localhost",), size, ("batch",), group="memory") for size in self.memory_sizes]
        return [case for case in cases if re.search(self.only, case.label)]

    def _all_cases(self, fleet: tuple[str, ...]) -> list[Case]:
        return [
            *(Case(scenario, ("localhost",), size, CONTENDERS) for size in self.sizes for scenario in SCENARIOS),
            *(Case(scenario, fleet, self.fleet_per_host, CONTENDERS, group="fleet") for scenario in self.fleet_scenarios),
            Case("check", ("localhost",), self.daemon_size, ("role", "batch", "floor", "ansible_floor"), transport=GIT_DAEMON, group="git daemon"),
            *(Case(scenario, ("localhost",), self.release_size, ("batch", RELEASES), group="release layout") for scenario in self.release_scenarios),
            Case("clone", ("localhost",), 1, PARTIAL_CONTENDERS, group=PARTIAL_CLONE),  # one real repository, see fixtures
        ]

    def rounds(self) -> list[Round]:
        timed = [Round(f"run {n}/{self.repetitions}", count=not self.separate_count_round and n == 1, timed=True) for n in range(1, self.repetitions + 1)]
        return [Round("counting git", count=True, timed=False), *timed] if self.separate_count_round else timed

    def repositories(self) -> int:
        return max(case.per_host for case in [*self.cases(), *self.memory_cases()])


SMOKE = Plan(
    sizes=(5,),
    repetitions=1,
    fleet_hosts=2,
    fleet_per_host=2,
    fleet_scenarios=("check",),
    daemon_size=5,
    release_size=5,
    memory_sizes=(5,),
    separate_count_round=False,
    out=RESULTS / "smoke",
)


@dataclass
class Measured:
    """One contender's runs in one case."""

    timed: list[Run] = field(default_factory=list)
    counted: Run | None = None


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(case: Case, plan: Plan, fixtures: Fixtures, runner: Runner) -> dict[str, t.Any]:
    """Every round of every contender on one case, each from the scenario's start, each checked afterwards."""
    measured = {name: Measured() for name in case.contenders}
    load_before = os.getloadavg()[0]
    for round_ in plan.rounds():
        for name in case.contenders:
            fixtures.reset(case, name)
            run = runner.run(name, case, count_git=round_.count)
            if name in SYNCING:
                fixtures.verify(case, name)
            if round_.timed:
                measured[name].timed.append(run)
            if round_.count:
                measured[name].counted = run
            counted = f", {len(run.git_commands)} git" if run.git_commands is not None else ""
            changed = f", changed={run.changed}" if run.changed is not None else ""
            disk = f", {run.disk_kib['dest'] / 1024:.1f} MiB on disk" if run.disk_kib else ""
            progress(f"{case.label:<34} {round_.name:<13} {name:<16} {run.seconds:8.2f}s{changed}{counted}{disk}")
    entry = report.case_entry(case, {name: report.contender_entry(case, m.timed, m.counted) for name, m in measured.items()})
    if case.group == PARTIAL_CLONE:
        real = fixtures.node_exporter
        entry["repository"] = {"bundle": NODE_EXPORTER.name, "branch": real.branch, "commit": real.commit, "commits": real.commits, "files": len(real.files)}
    # The 1-minute load average before and after: the machine may be shared (a fleet case raises it itself).
    entry["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return entry


def measure_memory(case: Case, fixtures: Fixtures, runner: Runner) -> dict[str, t.Any]:
    """Peak RSS of the module process for the case's checkouts in one gitops_sync call (batch, noop)."""
    fixtures.reset(case)
    kib, seconds = runner.peak_rss_kib(case)
    fixtures.verify(case)
    progress(f"{case.label:<34} {'memory':<13} {'batch':<14} {seconds:8.2f}s, peak RSS {kib / 1024:.1f} MiB")
    return {"checkouts": case.per_host, "peak_rss_kib": kib, "peak_rss_mib": round(kib / 1024, 1), "seconds": round(seconds, 3)}


def snapshot_collection(work: Path) -> Path:
    """A private copy of the installed collection (its tests left out), so a rebuild during the run changes nothing."""
    if not INSTALLED.is_dir():
        raise SystemExit(f"{INSTALLED} is missing: run `make build` first")

    def left_out(folder: str, _names: list[str]) -> set[str]:
        return {"__pycache__"} | ({"tests"} if Path(folder).parent.parent == INSTALLED else set())

    target = work / "collections"
    shutil.copytree(INSTALLED, target / "ansible_collections", ignore=left_out)
    return target


def _output(*argv: str | Path) -> str:
    return subprocess.run([str(a) for a in argv], capture_output=True, encoding="utf-8", check=True).stdout.strip()


def machine() -> dict[str, t.Any]:
    lines = Path("/etc/os-release").read_text(encoding="utf-8").splitlines()
    os_release = dict(line.split("=", 1) for line in lines if "=" in line)
    return {
        "cpus": os.cpu_count(),
        "os": os_release.get("PRETTY_NAME", platform.system()).strip('"'),
        "kernel": platform.release(),
        "python": _output(VENV / "bin" / "python", "-c", "import platform; print(platform.python_version())"),
        "git": _output(GIT, "--version").removeprefix("git version "),
        "ansible_core": _output(VENV / "bin" / "ansible-playbook", "--version").split("[core ")[1].split("]")[0],
        "matplotlib": _output(VENV / "bin" / "python", "-c", "import matplotlib; print(matplotlib.__version__)"),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def collection(snapshot: Path) -> dict[str, t.Any]:
    """What was measured: the collection's version, and the commit of this repository it was built from."""
    manifest = json.loads((snapshot / "ansible_collections/fleetops/gitops/MANIFEST.json").read_text())
    dirty = git("-C", ROOT, "status", "--porcelain", "--", "plugins", "roles", "meta").splitlines()
    return {
        "version": manifest["collection_info"]["version"],
        "commit": git("-C", ROOT, "rev-parse", "HEAD").strip(),
        "uncommitted_files_in_plugins_roles_meta": len(dirty),
    }


def available(cases: list[Case]) -> tuple[list[Case], list[str]]:
    """The cases whose fixtures exist here, and why the others are skipped: the real repository of the partial
    clone group is where ../shared exists (developer machines, CI), not on a user's fresh clone."""
    if NODE_EXPORTER.is_file() or all(case.group != PARTIAL_CLONE for case in cases):
        return cases, []
    reason = f"the {PARTIAL_CLONE} group, as {NODE_EXPORTER.name} is not in {REALWORLD} (see its README.md)"
    return [case for case in cases if case.group != PARTIAL_CLONE], [reason]


def benchmark(plan: Plan, work: Path) -> dict[str, t.Any]:
    """Build the fixtures, start git daemon, measure every case and the memory; the document of it all."""
    started, machine_info = time.monotonic(), machine()
    cases, skipped = available(plan.cases())
    for reason in skipped:
        progress(f"skipped: {reason}")
    snapshot = snapshot_collection(work)
    sys.path.insert(0, str(snapshot))  # the fixtures lay down release layouts with the collection's Python API
    measured = collection(snapshot)  # now: the repository may move on during the run
    progress(f"fixtures: {plan.repositories()} upstream repositories in {work}")
    fixtures = Fixtures(work / "fixtures", plan.repositories())
    runner = Runner(work / "runner", fixtures, ansible_playbook=VENV / "bin" / "ansible-playbook", python=VENV / "bin" / "python", collections=snapshot)
    with GitDaemon(fixtures.upstream_dir) as daemon:
        fixtures.serve(daemon)
        entries = [measure(case, plan, fixtures, runner) for case in cases]
    memory = [measure_memory(case, fixtures, runner) for case in plan.memory_cases()]
    return {
        "machine": machine_info,
        "collection": measured,
        "settings": {
            "repetitions": plan.repetitions,
            "sizes": list(plan.sizes),
            "separate_count_round": plan.separate_count_round,
            "fleet": f"{plan.fleet_hosts} hosts x {plan.fleet_per_host} checkouts",
            "daemon_size": plan.daemon_size,
            "repositories": plan.repositories(),
            "contenders": list(dict.fromkeys([*ALL_CONTENDERS, *PARTIAL_CONTENDERS])),
            "only": plan.only,
        },
        "elapsed_seconds": round(time.monotonic() - started, 1),
        "cases": entries,
        "memory": memory,
        "skipped": skipped,
        "anomalies": report.anomalies(entries),
    }


def parse_args(argv: list[str]) -> tuple[Plan, Path | None]:
    """The plan, and the benchmark.json to redraw instead of measuring, if one is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="N = 5, once, fleet of 2 x 2, no 1,000 case (for CI)")
    parser.add_argument("--repetitions", type=int, help="timed runs of each contender per case (default 3; smoke 1)")
    parser.add_argument("--sizes", help="checkouts on one host, comma-separated (default 10,50,200)")
    parser.add_argument("--only", metavar="REGEX", default="", help="only the cases whose label matches, e.g. 'noop 200 \\(one host' or 'daemon|memory'")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results, smoke: .../smoke)")
    parser.add_argument("--redraw", type=Path, metavar="JSON", help="measure nothing: write the Markdown and the chart again from this benchmark.json")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else Plan()
    if args.repetitions:
        plan = replace(plan, repetitions=args.repetitions)
    if args.sizes:
        plan = replace(plan, sizes=tuple(int(size) for size in args.sizes.split(",")))
    if args.only:
        plan = replace(plan, only=args.only)
    if args.redraw:
        plan = replace(plan, out=args.redraw.parent)
    return (replace(plan, out=args.out) if args.out else plan), args.redraw


def main(argv: list[str]) -> int:
    plan, redraw = parse_args(argv)
    if redraw:
        doc = json.loads(redraw.read_text())
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: daemon stopped, folder removed
        try:
            with tempfile.TemporaryDirectory(prefix="fleetops-gitops-benchmark-") as work:
                doc = benchmark(plan, Path(work).resolve())
        except RuntimeError as failure:  # a contender failed, or left checkouts out of step
            progress(f"BENCHMARK FAILED: {failure}")
            return 1
    text = report.write(doc, plan.out)
    print(text)
    minutes = report.plural(round(doc["elapsed_seconds"] / 60), "minute")
    progress(f"wrote {plan.out}/benchmark.json, benchmark.md and benchmark.png (the run took {minutes})")
    for anomaly in doc["anomalies"]:
        progress(f"ANOMALY: {anomaly}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
