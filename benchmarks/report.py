"""The benchmark's outputs, all made from one JSON document: benchmark.json, benchmark.md and benchmark.png.

Medians, ratios and git process counts are computed once, into the document; the Markdown table and the chart
only read it, so the three files can never disagree.
"""

from __future__ import annotations

import json
import statistics
import typing as t
from collections import Counter
from pathlib import Path

from contenders import ALL_CONTENDERS, CONTENDERS, SYNCING, Run
from fixtures import SCENARIOS, Case
from matplotlib.figure import Figure  # without pyplot: no display, no global state
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

RATIOS = {  # name: (numerator, denominators summed)
    "role / builtin": ("role", ("builtin",)),
    "batch / builtin": ("batch", ("builtin",)),
    "role / (floor + ansible_floor)": ("role", ("floor", "ansible_floor")),
    "batch / (floor + ansible_floor)": ("batch", ("floor", "ansible_floor")),
    "releases / batch": ("releases", ("batch",)),  # the release layout against the plain checkout
}
CHANGES_EXPECTED = ("clone", "update", "drift")  # scenarios in which a syncing contender must report a change
SUM = "floor + ansible_floor"  # the least any Ansible-driven tool can cost
COLORS = {
    "releases": "tab:purple",
    "role": "tab:blue",
    "batch": "tab:green",
    "builtin": "tab:red",
    "floor": "tab:gray",
    "ansible_floor": "tab:olive",
    SUM: "black",
}


def contender_entry(case: Case, timed_runs: list[Run], counted: Run | None) -> dict[str, t.Any]:
    """One contender in one case: every timing, the median, changes reported, and the git processes it ran."""
    seconds = [round(run.seconds, 4) for run in timed_runs]
    runs = list(timed_runs)
    if counted is not None and all(counted is not run for run in timed_runs):
        runs.append(counted)  # the separate, untimed counting run
    entry: dict[str, t.Any] = {
        "seconds": seconds,
        "median": round(statistics.median(seconds), 4),
        "changed_tasks": [run.changed for run in runs],
        "warnings": sorted({warning for run in runs for warning in run.warnings}),
    }
    if counted is not None and counted.git_commands is not None:
        entry["git_processes"] = len(counted.git_commands)
        entry["git_per_checkout"] = round(len(counted.git_commands) / case.checkouts, 3)
        entry["git_commands"] = dict(Counter(counted.git_commands).most_common())
    return entry


def case_entry(case: Case, contenders: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    """One case with its contenders and the ratios of their medians."""
    medians = {name: entry["median"] for name, entry in contenders.items()}
    ratios = {
        name: round(medians[top] / sum(medians[d] for d in bottom), 3)
        for name, (top, bottom) in RATIOS.items()
        if top in medians and all(d in medians for d in bottom)
    }
    return {
        "scenario": case.scenario,
        "group": case.group,
        "transport": case.transport,
        "hosts": len(case.hosts),
        "checkouts_per_host": case.per_host,
        "checkouts": case.checkouts,
        "size": case.size,
        "contenders": contenders,
        "ratios": ratios,
    }


def anomalies(cases: list[dict[str, t.Any]]) -> list[str]:
    """What looks wrong: a contender reporting a change where there is none to make, or none where there is."""
    found = []
    for case in cases:
        where = f"{case['scenario']} at {case['size']} ({case['group']})"
        for name, entry in case["contenders"].items():
            expected = name in SYNCING and case["scenario"] in CHANGES_EXPECTED
            for changed in entry["changed_tasks"]:
                if changed is not None and bool(changed) != expected:
                    found.append(f"{name} reported changed={changed} on {where}; expected {'a change' if expected else 'no change'}")
    return sorted(set(found))


# -- the targets (issues 3 and 5) ----------------------------------------------------------------------------------

# (what, scenario, checkouts on one host, transport, contender, measure, limit): a measure at most ``limit`` holds.
TARGETS = [
    ("no-op: at most 1.5 × (floor + Ansible floor)", "noop", 200, "file", ("role", "batch"), "floor", 1.5),
    ("no-op: at least 20 × faster than ansible.builtin.git", "noop", 200, "file", ("role", "batch"), "builtin", 1 / 20),
    ("--check audit: at most 1.5 × (floor + Ansible floor)", "check", 200, "file", ("role", "batch"), "floor", 1.5),
    ("--check audit: at least 20 × faster than ansible.builtin.git", "check", 200, "file", ("role", "batch"), "builtin", 1 / 20),
    ("update: at most 1.5 × (floor + Ansible floor)", "update", 200, "file", ("role", "batch"), "floor", 1.5),
    ("cold clone: at most 1.2 × (floor + Ansible floor)", "clone", 200, "file", ("role", "batch"), "floor", 1.2),
    ("git daemon audit: faster than the serial floor", "check", 200, "git", ("role", "batch"), "serial", 1.0),
    ("no-op, 50 checkouts: under a quarter of ansible.builtin.git (issue 3)", "noop", 50, "file", ("role",), "builtin", 0.25),
    # two per checkout, and one per task: the git config that lists the host's filter drivers
    ("git processes per checkout, no-op: 2 (+ 1 per task)", "noop", 200, "file", ("role", "batch"), "git", 2 + 1 / 200),
    ("git processes per checkout, --check audit: 2 (+ 1 per task)", "check", 200, "file", ("role", "batch"), "git", 2 + 1 / 200),
    ("release layout no-op: at most 1.2 × the plain checkout's (issue 15)", "noop", 50, "file", ("releases",), "plain", 1.2),
    ("release layout, git processes per checkout, no-op: 2 (+ 1 per task)", "noop", 50, "file", ("releases",), "git", 2 + 1 / 50),
]
MEMORY_TARGET = (1000, 100.0)  # checkouts in one call, MiB


def _measure(case: dict[str, t.Any], contender: str, measure: str) -> float | None:
    entry = case["contenders"].get(contender, {})
    if measure == "git":
        return entry.get("git_per_checkout")
    if measure == "floor":
        return case["ratios"].get(f"{contender} / (floor + ansible_floor)")
    if measure == "builtin":
        return case["ratios"].get(f"{contender} / builtin")
    if measure == "plain":
        return case["ratios"].get(f"{contender} / batch")
    floor = case["contenders"].get("floor", {}).get("median")
    return round(entry["median"] / floor, 3) if floor and "median" in entry else None


def targets(doc: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Each target the run has the cases for: the measure, the limit, and whether it holds."""
    found = []
    for what, scenario, size, transport, contenders, measure, limit in TARGETS:
        for case in doc["cases"]:
            if (case["scenario"], case["checkouts"], case["transport"], case["group"]) in (
                (scenario, size, transport, "one host"),
                (scenario, size, transport, "git daemon"),
                (scenario, size, transport, "release layout"),
            ):
                for contender in contenders:
                    value = _measure(case, contender, measure)
                    if value is not None:
                        found.append(
                            {"target": what, "contender": contender, "measure": measure, "value": value, "limit": round(limit, 3), "holds": value <= limit}
                        )
    memory = [m for m in doc["memory"] if m["checkouts"] == MEMORY_TARGET[0]]
    for entry in memory:
        found.append(
            {
                "target": f"peak memory of the module, {MEMORY_TARGET[0]} checkouts in one call: under {MEMORY_TARGET[1]:g} MiB",
                "contender": "batch",
                "measure": "MiB",
                "value": entry["peak_rss_mib"],
                "limit": MEMORY_TARGET[1],
                "holds": entry["peak_rss_mib"] < MEMORY_TARGET[1],
            }
        )
    return found


def _target_value(row: dict[str, t.Any]) -> str:
    """As the target reads: ``1.21 ×`` of the floors, ``37 × faster``, ``2.005 processes``, ``35.6 MiB``."""
    if row["measure"] == "builtin":
        return f"{1 / row['value']:.1f} × faster" if row["limit"] < 1 / 4 else f"{row['value']:.2f} of builtin"
    if row["measure"] in ("floor", "serial", "plain"):
        return f"{row['value']:.2f} ×"
    if row["measure"] == "git":
        return f"{row['value']:g} processes"
    return f"{row['value']:.1f} MiB"


# -- Markdown --------------------------------------------------------------------------------------------------


def plural(count: float, word: str) -> str:
    return f"{count:g} {word}{'' if count == 1 else 's'}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _where(case: dict[str, t.Any]) -> str:
    if case["group"] == "fleet":
        return f"fleet of {case['hosts']} hosts"
    if case["group"] == "release layout":
        return "one host, release layout"
    return "one host, git daemon" if case["transport"] == "git" else "one host"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def markdown(doc: dict[str, t.Any]) -> str:
    machine, settings = doc["machine"], doc["settings"]
    cases = doc["cases"]
    timing = _table(
        ["scenario", "where", "checkouts", *ALL_CONTENDERS, *RATIOS],
        [
            [
                c["scenario"],
                _where(c),
                c["size"],
                *(_seconds(c["contenders"].get(name, {}).get("median")) for name in ALL_CONTENDERS),
                *(_seconds(c["ratios"].get(name)) for name in RATIOS),
            ]
            for c in cases
        ],
    )
    processes = _table(
        ["scenario", "where", "checkouts", *SYNCING],
        [
            [
                c["scenario"],
                _where(c),
                c["size"],
                *(f"{round(c['contenders'][n]['git_per_checkout'], 2):g}" if "git_per_checkout" in c["contenders"].get(n, {}) else "—" for n in SYNCING),
            ]
            for c in cases
        ],
    )
    memory = _table(
        ["checkouts", "peak RSS of the module process (MiB)", "run (s)"],
        [[str(m["checkouts"]), f"{m['peak_rss_mib']:.1f}", _seconds(m["seconds"])] for m in doc["memory"]],
    )
    notes = [f"- {line}" for line in doc["anomalies"]] or ["- none"]
    checked = targets(doc)
    goals = _table(
        ["target", "contender", "measured", "holds"],
        [[row["target"], row["contender"], _target_value(row), "yes" if row["holds"] else "**no**"] for row in checked],
    )
    return "\n".join(
        [
            "# fleetops.gitops benchmark",
            "",
            f"Median wall-clock seconds of {plural(settings['repetitions'], 'timed run')} each (lower is better), "
            "contenders alternating on the same fixtures reset before every run; file:// unless said otherwise. "
            f"{machine['cpus']} CPUs, {machine['os']}, Python {machine['python']}, git {machine['git']}, "
            f"ansible-core {machine['ansible_core']}, {machine['date']}; "
            f"the whole run took {plural(round(doc['elapsed_seconds'] / 60), 'minute')}.",
            "",
            timing,
            "",
            "## Targets",
            "",
            "The targets of issues 3 and 5 and of the release layout, checked against this run "
            '(N = 200 on one host unless said otherwise; "serial" is the shell loop of the floor).',
            "",
            goals if checked else "No case of this run has a target.",
            "",
            "## git processes per checkout",
            "",
            "Counted in "
            + ("a separate untimed run" if settings["separate_count_round"] else "the timed run")
            + " by a logging `git` first in PATH; the controller's git (the role on a fleet: one `ls-remote` per repository and play) included.",
            "",
            processes,
            "",
            "## Memory",
            "",
            "Peak RSS of the `gitops_sync` module process (its children included) in one call with all checkouts, batch contender, noop scenario.",
            "",
            memory,
            "",
            "## Anomalies",
            "",
            *notes,
            "",
        ]
    )


# -- the chart ---------------------------------------------------------------------------------------------------


def _points(cases: list[dict[str, t.Any]], line: str) -> list[tuple[int, float]]:
    """(checkouts, median seconds) of one contender, or of floor + ansible_floor."""
    parts = ("floor", "ansible_floor") if line == SUM else (line,)
    return [(c["checkouts"], sum(c["contenders"][part]["median"] for part in parts)) for c in cases if all(part in c["contenders"] for part in parts)]


def _panel(axis: t.Any, scenario: str, cases: list[dict[str, t.Any]]) -> None:
    """One scenario: a line per contender, log-log, ticks at the sizes measured and plain numbers for seconds."""
    for line in (*CONTENDERS, SUM):
        points = _points(cases, line)
        if points:
            axis.plot(*zip(*points), marker="o", color=COLORS[line], label=line, linestyle="--" if line == SUM else "-")
    axis.set(
        title=f"{scenario}{' (--check)' if scenario == 'check' else ''}", xscale="log", yscale="log", xlabel="checkouts on one host", ylabel="seconds (median)"
    )
    axis.set_xticks([c["checkouts"] for c in cases], [str(c["checkouts"]) for c in cases])
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.grid(True, which="both", alpha=0.3)


def chart(doc: dict[str, t.Any], path: Path) -> None:
    """Time against checkouts on one host, one panel per scenario; the sixth panel holds the legend."""
    one_host = sorted((c for c in doc["cases"] if c["group"] == "one host" and c["transport"] == "file"), key=lambda c: c["checkouts"])
    figure = Figure(figsize=(15, 9), layout="constrained")
    axes = figure.subplots(2, 3)
    for axis, scenario in zip(axes.flat, SCENARIOS):
        _panel(axis, scenario, [c for c in one_host if c["scenario"] == scenario])
    legend = axes.flat[len(SCENARIOS)]
    legend.axis("off")
    legend.legend(*axes.flat[0].get_legend_handles_labels(), loc="center", fontsize=13, title="contender", title_fontsize=13, frameon=False)
    machine = doc["machine"]
    figure.suptitle(
        f"fleetops.gitops: time to keep N checkouts in step (lower is better) — median of "
        f"{plural(doc['settings']['repetitions'], 'run')}, file://, {machine['cpus']} CPUs, git {machine['git']}, "
        f"ansible-core {machine['ansible_core']}",
        fontsize=12,
    )
    figure.savefig(path, dpi=110)


def write(doc: dict[str, t.Any], folder: Path) -> str:
    """benchmark.json, benchmark.md and benchmark.png into ``folder``; returns the Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    doc["targets"] = targets(doc)
    (folder / "benchmark.json").write_text(json.dumps(doc, indent=2) + "\n")
    text = markdown(doc)
    (folder / "benchmark.md").write_text(text)
    chart(doc, folder / "benchmark.png")
    return text
