# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: a real browser (Debian's Chromium, headless) shows the HTML report.

Without /usr/bin/chromium the test is skipped, or fails when FLEETOPS_REQUIRE_CHROMIUM=1. The screenshot is
copied to tests/output/artifacts/gitops-report.png under the collection root when that folder can be made.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import FleetReport, write_reports
from ansible_collections.fleetops.gitops.plugins.plugin_utils._report.drift_history import Entry, apply_history
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import (
    APP_REPO,
    DEPLOYED,
    DESIRED,
    NOW,
    SCRIPT_DETAIL,
    asked,
    fill_sample,
    single,
    status,
)

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_HOST = 'web03"><img src=x onerror=alert(1)>'
HOSTILE_PATH = "/srv/<marquee>app</marquee>/a&amp;b"
SKEWED = {"local01": DESIRED, "local02": DEPLOYED, "local03": DEPLOYED}
# Badge colours of the page's CSS: seeing them in the screenshot means the styles were applied.
BADGES = {"IN_SYNC": (0x1A, 0x7F, 0x37), "DRIFTED": (0xB3, 0x59, 0x00), "ERROR": (0xCF, 0x22, 0x2E)}


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once, with a new profile folder of its own."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL
    )


class _Page(HTMLParser):
    """The text and the tags of a dumped DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.chunks).split())


def png_colours(path: Path) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    assert header is not None
    width, height, depth, colour_type, _compression, _filter, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    previous = bytearray(stride)
    colours = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                corner = previous[i - bpp] if i >= bpp else 0
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + near[2]) & 0xFF
        colours.update(tuple(line[i : i + 3]) for i in range(0, stride, bpp))
        previous = line
    return width, height, colours


def near(colours: set[tuple[int, int, int]], wanted: tuple[int, int, int], tolerance: int = 6) -> bool:
    return any(all(abs(a - b) <= tolerance for a, b in zip(colour, wanted)) for colour in colours)


def keep_artifact(screenshot: Path) -> Path | None:
    """Copy the screenshot to tests/output/artifacts/ of the collection root, for CI to keep; None if impossible."""
    root = Path(__file__).resolve().parents[5]
    if not (root / "galaxy.yml").is_file() and not (root / "MANIFEST.json").is_file():
        return None
    target = root / "tests" / "output" / "artifacts" / "gitops-report.png"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, target)
    except OSError:
        return None
    return target


def test_chromium_shows_the_html_report(tmp_path):
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("FLEETOPS_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{message}, and FLEETOPS_REQUIRE_CHROMIUM=1")
        pytest.skip(message)

    report = fill_sample(FleetReport())
    for host, actual in SKEWED.items():  # a rollout half done: three hosts, three commits of the application
        report.add_result(host, single("/srv/app", asked(status("IN_SYNC" if actual == DESIRED else "DRIFTED", DESIRED, actual))))
    # names a managed host or an inventory could carry, each meant to become markup in the page
    report.add_result(HOSTILE_HOST, single(HOSTILE_PATH, status("DRIFTED", details=['<iframe src="https://example.invalid">'])))
    records = report.records()
    apply_history(records, {("web10", "/srv/app"): Entry("2026-12-01T07:20:00Z", "DRIFTED", "2026-11-30T06:00:00Z")}, "2026-12-01T07:30:00Z")
    (page,) = write_reports(str(tmp_path / "report"), ["html"], records, now=NOW)
    url = Path(page).as_uri()

    screenshot = tmp_path / "gitops-report.png"
    shot = chromium(tmp_path, f"--screenshot={screenshot}", "--window-size=1280,900", url)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.is_file(), shot.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000, "the screenshot is suspiciously small"
    keep_artifact(screenshot)
    width, height, colours = png_colours(screenshot)
    assert (width, height) == (1280, 900)
    assert len(colours) > 50, "the screenshot is nearly blank"
    missing = [state for state, colour in BADGES.items() if not near(colours, colour)]
    assert not missing, f"no {', '.join(missing)} badge colour in the screenshot: were the styles applied?"

    dump = chromium(tmp_path, "--dump-dom", url)
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = _Page()
    dom.feed(dump.stdout)
    assert "table" in dom.tags
    assert not {"img", "marquee", "iframe"} & set(dom.tags), "a name or a drift detail became markup"
    assert dom.tags.count("script") == 1  # the page's own filter, and no other
    for record in report.records():
        assert record.host in dom.text
        assert record.state.replace("_", " ") in dom.text
        assert record.path in dom.text
        for detail in record.drift_details:
            assert " ".join(detail.split()) in dom.text
    assert SCRIPT_DETAIL in dom.text
    assert HOSTILE_HOST in dom.text and HOSTILE_PATH in dom.text
    assert "8 hosts, 11 checkouts: 4 in sync, 5 drifted, 1 unknown, 1 error" in dom.text
    assert "drift against the previous run: 6 new, 1 chronic, 0 resolved" in dom.text  # the drift history, shown
    assert "drifted since 2026-11-30 06:00" in dom.text and "drifted since 2026-12-01 07:30" in dom.text

    # The columns, and the skew view: the application on 7 hosts, 5 of them on the desired commit, 2 on another.
    headers = re.findall(r"<th(?: [^>]*)?>([^<]*)</th>", dump.stdout)
    assert headers[-9:] == ["Host", "Checkout", "Repository", "Version", "State", "Desired", "Actual", "Last sync", "Details"]
    assert f"{APP_REPO} · main · 7 hosts skew" in dom.text
    assert f"{DEPLOYED[:12]} 2 hosts local02, local03" in dom.text
    assert f"{DESIRED[:12]}desired 5 hosts db01, local01, web01, web02, web10" in dom.text
    assert rows(dump.stdout) == [(record.host, "") for record in report.records()]  # nothing filtered out
    assert 'id="filter-bar" hidden' not in dump.stdout  # the script ran: the box shows

    # The filter box, filled from the link: only the rows holding every word stay.
    for words, shown in [("local03", {"local03"}), ("DRIFTED%20local", {"local02", "local03"}), ("app-config", {"web01"})]:
        filtered = chromium(tmp_path, "--dump-dom", f"{url}#filter={words}")
        assert filtered.returncode == 0, filtered.stderr[-2000:]
        found = rows(filtered.stdout)
        assert {host for host, classes in found if "filtered-out" not in classes} == shown, words
        assert len(found) == len(report.records())
        assert f"{len(shown)} of {len(found)} checkouts shown" in filtered.stdout


def rows(dom: str) -> list[tuple[str, str]]:
    """(host, the classes but the state's) of every checkout row of a dumped page, in its order."""
    found = re.findall(r'<tr class="([^"]*)" data-checkout="">\s*<td class="host">([^<]*)</td>', dom)
    return [(html.unescape(host), " ".join(name for name in classes.split() if not name.startswith("st-"))) for classes, host in found]
