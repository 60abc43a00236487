"""The benchmark's outputs, all made from one JSON document: benchmark.json, benchmark.md and benchmark.png.

Medians, ratios and git process counts are computed once, into the document; the Markdown table and the chart
only read it, so the three files can never disagree. The partial clone group has a section and a row of the chart of
its own: one real repository, its contenders' times side by side with what their checkouts take on disk.
"""

from __future__ import annotations

import json
import statistics
import typing as t
from collections import Counter
from pathlib import Path

from contenders import ALL_CONTENDERS, CONTENDERS, PARTIAL_CONTENDERS, PARTIAL_WHAT, SYNCING, Run
from fixtures import PARTIAL_CLONE, SCENARIOS, Case
from matplotlib.figure import Figure  # without pyplot: no display, no global state
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

RATIOS = {  # name: (numerator, denominators summed)
    "role / builtin": ("role", ("builtin",)),
    "batch / builtin": ("batch", ("builtin",)),
    "role / (floor + ansible_floor)": ("role", ("floor", "ansible_floor")),
    "batch / (floor + ansible_floor)": ("batch", ("floor", "ansible_floor")),
    "releases / batch": ("releases", ("batch",)),  # the release layout against the plain checkout
}
PARTIAL_RATIOS = {  # the partial clone group's, of times and of disk: what the filter saves, and what we cost over git
    "partial / full": ("partial", ("full",)),
    "partial_sparse / full": ("partial_sparse", ("full",)),
    "full / git_clone": ("full", ("git_clone",)),
    "partial / git_clone_filter": ("partial", ("git_clone_filter",)),
}
DISK = ("dest", "objects")  # du of the checkout folder, .git included, and of its .git/objects
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
    "full": "tab:green",
    "partial": "tab:cyan",
    "partial_sparse": "tab:blue",
    "git_clone": "tab:gray",
    "git_clone_filter": "silver",
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
    disks = [run.disk_kib for run in timed_runs if run.disk_kib is not None]
    if disks:
        entry["disk_kib_runs"] = disks
        entry["disk_kib"] = {part: statistics.median_low(disk[part] for disk in disks) for part in DISK}
    return entry


def _ratios(values: dict[str, float], pairs: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, float]:
    """Each ratio of ``pairs`` whose contenders have a value: the numerator's over the sum of the denominators'."""
    return {
        name: round(values[top] / sum(values[d] for d in bottom), 3)
        for name, (top, bottom) in pairs.items()
        if top in values and all(d in values for d in bottom)
    }


def case_entry(case: Case, contenders: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    """One case with its contenders and the ratios of their medians (in the partial clone group, of disk too)."""
    medians = {name: entry["median"] for name, entry in contenders.items()}
    disks = {name: entry["disk_kib"] for name, entry in contenders.items() if "disk_kib" in entry}
    disk_ratios = {part: _ratios({name: disk[part] for name, disk in disks.items()}, PARTIAL_RATIOS) for part in DISK} if disks else None
    return {
        "scenario": case.scenario,
        "group": case.group,
        "transport": case.transport,
        "hosts": len(case.hosts),
        "checkouts_per_host": case.per_host,
        "checkouts": case.checkouts,
        "size": case.size,
        "contenders": contenders,
        "ratios": _ratios(medians, {**RATIOS, **PARTIAL_RATIOS}),
        **({"disk_ratios": disk_ratios} if disk_ratios else {}),
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


def _table(header: list[str], rows: list[list[str]], text_columns: int = 3) -> str:
    """A Markdown table, its first ``text_columns`` aligned left and the figures right; a sentence when it has no row."""
    if not rows:
        return "No case of this run."
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _mib(kib: float | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.1f}"


def _partial_section(case: dict[str, t.Any], repetitions: int) -> list[str]:
    """The partial clone group: the real repository, each contender's time and disk, and the ratios of both."""
    repository, contenders = case["repository"], case["contenders"]
    rows = [
        [
            f"`{name}`",
            PARTIAL_WHAT[name],
            _seconds(contenders[name]["median"]),
            *(_mib(contenders[name].get("disk_kib", {}).get(part)) for part in DISK),
            str(contenders[name].get("git_processes", "—")),
        ]
        for name in PARTIAL_CONTENDERS
        if name in contenders
    ]
    ratios = [[f"`{name}`", _seconds(case["ratios"].get(name)), *(_seconds(case["disk_ratios"][part].get(name)) for part in DISK)] for name in PARTIAL_RATIOS]
    return [
        f"## {PARTIAL_CLONE.capitalize()}",
        "",
        f"A cold clone of `{repository['branch']}` of a real repository, prometheus/node_exporter ({repository['bundle']}: "
        f"{repository['commits']:,} commits on `{repository['branch']}`, {repository['files']} files at {repository['commit'][:12]}), "
        f"unbundled into a bare repository with `uploadpack.allowFilter` and served over file://; median of {plural(repetitions, 'timed run')}. "
        "On disk: `du` of the checkout folder, `.git` included, and of `.git/objects` alone, after each run (the median). "
        f"The machine's 1-minute load average: {case['load_average'][0]:g} before, {case['load_average'][1]:g} after.",
        "",
        _table(["contender", "what runs", "seconds", "checkout (MiB)", ".git/objects (MiB)", "git processes"], rows, text_columns=2),
        "",
        _table(["ratio", "time", "checkout on disk", ".git/objects"], ratios, text_columns=1),
        "",
    ]


def markdown(doc: dict[str, t.Any]) -> str:
    machine, settings = doc["machine"], doc["settings"]
    cases = [c for c in doc["cases"] if c["group"] != PARTIAL_CLONE]
    partial = [line for c in doc["cases"] if c["group"] == PARTIAL_CLONE for line in _partial_section(c, settings["repetitions"])]
    syncing = [name for name in SYNCING if name in ALL_CONTENDERS]
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
        ["scenario", "where", "checkouts", *syncing],
        [
            [
                c["scenario"],
                _where(c),
                c["size"],
                *(f"{round(c['contenders'][n]['git_per_checkout'], 2):g}" if "git_per_checkout" in c["contenders"].get(n, {}) else "—" for n in syncing),
            ]
            for c in cases
        ],
    )
    memory = _table(
        ["checkouts", "peak RSS of the module process (MiB)", "run (s)"],
        [[str(m["checkouts"]), f"{m['peak_rss_mib']:.1f}", _seconds(m["seconds"])] for m in doc["memory"]],
    )
    notes = [f"- {line}" for line in doc["anomalies"]] or ["- none"]
    skipped = [f"Skipped: {reason}." for reason in doc.get("skipped", [])]  # a case group whose fixture is absent here
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
            *(line for reason in skipped for line in (reason, "")),
            *partial,
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


def _scenario_panels(figure: t.Any, doc: dict[str, t.Any], one_host: list[dict[str, t.Any]]) -> None:
    """Time against checkouts on one host, one panel per scenario; the sixth panel holds the legend."""
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


def _partial_panels(figure: t.Any, case: dict[str, t.Any]) -> None:
    """The partial clone group: each contender's median time, and what its checkout takes on disk, as bars."""
    contenders, repository = case["contenders"], case["repository"]
    names = [name for name in PARTIAL_CONTENDERS if name in contenders]
    weighed = [name for name in names if "disk_kib" in contenders[name]]
    time_axis, disk_axis = figure.subplots(1, 2)
    time_axis.bar_label(time_axis.barh(names, [contenders[n]["median"] for n in names], color=[COLORS[n] for n in names]), fmt="%.2f", padding=3)
    time_axis.set(title="time (median)", xlabel="seconds")
    for offset, part, label in ((-0.2, "dest", "the checkout, .git included"), (0.2, "objects", ".git/objects")):
        bars = disk_axis.barh([row + offset for row in range(len(weighed))], [contenders[n]["disk_kib"][part] / 1024 for n in weighed], height=0.4, label=label)
        disk_axis.bar_label(bars, fmt="%.1f", padding=3)
    disk_axis.set_yticks(range(len(weighed)), weighed)
    disk_axis.set(title="on disk after the clone (du)", xlabel="MiB")
    disk_axis.legend(loc="lower right")
    for axis in (time_axis, disk_axis):
        axis.invert_yaxis()
        axis.margins(x=0.15)
        axis.grid(True, axis="x", alpha=0.3)
    figure.suptitle(
        f"partial clone: a cold clone of {repository['branch']} of node_exporter ({repository['commits']:,} commits, {repository['files']} files) "
        "over file:// (lower is better)",
        fontsize=12,
    )


def chart(doc: dict[str, t.Any], path: Path) -> None:
    """The scenarios' panels and, below them, the partial clone group's when it was measured (alone, only those)."""
    one_host = sorted((c for c in doc["cases"] if c["group"] == "one host" and c["transport"] == "file"), key=lambda c: c["checkouts"])
    partial = [c for c in doc["cases"] if c["group"] == PARTIAL_CLONE]
    scenarios = bool(one_host) or not partial
    heights = ([9.0] if scenarios else []) + [4.5] * len(partial)
    figure = Figure(figsize=(15, sum(heights)), layout="constrained")
    subfigures = list(figure.subfigures(len(heights), 1, height_ratios=heights, squeeze=False).flat)
    if scenarios:
        _scenario_panels(subfigures.pop(0), doc, one_host)
    for subfigure, case in zip(subfigures, partial):
        _partial_panels(subfigure, case)
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
