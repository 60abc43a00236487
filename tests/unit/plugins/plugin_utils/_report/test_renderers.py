# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report as a terminal table, JSON, JUnit XML and HTML."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET

from ansible_collections.fleetops.gitops.plugins.plugin_utils._report import (
    CheckoutRecord,
    FleetReport,
    render_html,
    render_json,
    render_junit,
    render_table,
    summary_line,
    table_lines,
)
from ansible_collections.fleetops.gitops.tests.unit.plugins.plugin_utils.report_samples import (
    APP_REPO,
    CONF_REPO,
    DEPLOYED,
    DESIRED,
    NOW,
    SAMPLE_ORDER,
    SCRIPT_DETAIL,
    asked,
    single,
    status,
)

# -- table ------------------------------------------------------------------------------------------------------------


def test_table_rows_drifted_first_and_summary(sample_report):
    text = render_table(sample_report.records())
    lines = text.splitlines()
    assert lines[0].split() == ["HOST", "CHECKOUT", "STATE", "DESIRED", "ACTUAL", "LAST", "SYNC", "DETAILS"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    states = [line.split()[2] for line in lines[2:-1]]
    assert states == [state for _host, _path, state in SAMPLE_ORDER]
    assert lines[-1] == "4 hosts, 7 checkouts: 3 in sync, 2 drifted, 1 unknown, 1 error"
    conf = next(line for line in lines if "/etc/app/conf.d" in line)
    assert "8f3c2a9d0b6e  1f0c3b9e2d4a  2026-12-01 07:15" in conf
    assert DESIRED not in text  # 12-character SHAs only
    assert conf.endswith("+2 more")
    assert all(len(line) <= 100 for line in lines)


def test_table_cuts_long_cells_with_an_ellipsis_to_fit_100_columns():
    report = FleetReport()
    report.add_result(
        "host-with-a-really-long-name.datacenter-one.example.com",
        single(
            "/opt/releases/reporting-service/current/checkout",
            status(
                "DRIFTED",
                DESIRED,
                DEPLOYED,
                details=["revision differs: recorded 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (250 commits behind)", "untracked files: a, b, c"],
            ),
        ),
    )
    lines = render_table(report.records(), width=100).splitlines()
    assert all(len(line) <= 100 for line in lines)
    row = lines[2]
    assert re.match("host-with\\S*\u2026  ", row)  # host names keep their start
    assert "\u2026rent/checkout  DRIFTED" in row  # paths keep their end
    assert row.endswith("\u2026 +1 more")
    wide = render_table(report.records(), width=300).splitlines()[2]
    assert "host-with-a-really-long-name.datacenter-one.example.com" in wide
    assert "(250 commits behind) +1 more" in wide


def test_table_control_characters_cannot_reach_the_terminal():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED", details=["untracked files: \x1b[31mred\x1b[0m\nnext"])))
    text = render_table(report.records(), width=200)
    assert "\x1b" not in text
    assert "untracked files: [31mred [0m next" in text


def test_table_drifted_only_and_all_in_sync(sample_report):
    lines = render_table(sample_report.records(), drifted_only=True).splitlines()
    assert len(lines) == 2 + 4 + 1
    assert "IN_SYNC" not in "\n".join(lines[:-1])
    assert lines[-1].startswith("4 hosts, 7 checkouts: 3 in sync")
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status()))
    assert table_lines(report.records(), drifted_only=True) == [("All 1 checkout in sync.", "IN_SYNC"), ("1 host, 1 checkout: 1 in sync, 0 drifted", "IN_SYNC")]


def test_table_lines_carry_the_state_for_colour(sample_report):
    lines = table_lines(sample_report.records())
    assert [state for _line, state in lines] == [None, None] + [state for _h, _p, state in SAMPLE_ORDER] + ["ERROR"]


def test_summary_line_pluralises():
    summary = {"hosts": 23, "checkouts": 57, "states": {"IN_SYNC": 52, "DRIFTED": 4, "UNKNOWN": 0, "ERROR": 1}}
    assert summary_line(summary) == "23 hosts, 57 checkouts: 52 in sync, 4 drifted, 1 error"
    summary["states"]["ERROR"] = 2
    assert summary_line(summary).endswith("2 errors")


# -- JSON -------------------------------------------------------------------------------------------------------------


def test_json_parses_back_sorted_with_summary(sample_report):
    document = json.loads(render_json(sample_report.records(), now=NOW))
    assert list(document)[:2] == ["format_version", "generated_at"] and document["format_version"] == 1
    assert document["generated_at"] == "2026-12-01T07:30:00Z"
    summary = {"hosts": 4, "checkouts": 7, "changed": 2, "would_change": 0, "states": {"IN_SYNC": 3, "DRIFTED": 2, "UNKNOWN": 1, "ERROR": 1}}
    assert document["summary"] == summary
    assert [(c["host"], c["path"], c["state"]) for c in document["checkouts"]] == SAMPLE_ORDER
    keys = [
        "host",
        "path",
        "state",
        "desired_revision",
        "actual_revision",
        "last_synced_at",
        "drift_details",
        "changed",
        "check_mode",
        "release",
        "previous_release",
        "last_switch",
        "drifted_since",
        "trend",
        "repo",
        "version",
        "health",
    ]
    assert list(document["checkouts"][2]) == keys
    assert document["checkouts"][2]["drift_details"][2] == SCRIPT_DETAIL


# -- JUnit ------------------------------------------------------------------------------------------------------------


def test_junit_has_a_suite_per_host_and_a_case_per_checkout(sample_report):
    text = render_junit(sample_report.records(), now=NOW)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "2")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["db01", "web01", "web02", "web10"]
    counts = {name: (suite.get("tests"), suite.get("failures"), suite.get("errors")) for name, suite in suites.items()}
    assert counts == {"db01": ("3", "0", "2"), "web01": ("2", "1", "0"), "web02": ("1", "0", "0"), "web10": ("1", "1", "0")}
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    drifted = cases[("web01", "/etc/app/conf.d")]
    failure = drifted.find("failure")
    assert failure.get("message").startswith("revision differs: recorded 1f0c3b9e2d4a")
    assert failure.text.splitlines()[2] == SCRIPT_DETAIL  # escaped on the way in, intact on the way out
    assert cases[("db01", "/srv/broken")].find("error").get("message") == "dest: /srv/broken is a checkout of another repository"
    assert cases[("db01", "/srv/tools")].find("error").get("message") == "UNKNOWN"
    assert cases[("web02", "/srv/app")].find("failure") is None and cases[("web02", "/srv/app")].find("error") is None


def test_junit_survives_characters_xml_cannot_hold():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED", details=["bad \x00 byte \x1b[0m"])))
    root = ET.fromstring(render_junit(report.records(), now=NOW))
    assert root.find("testsuite/testcase/failure").get("message") == "bad \ufffd byte \ufffd[0m"


def test_a_state_no_module_returns_is_unknown():
    """SYNCING lasts only inside a reconcile; a result that claims it (or anything else) is not to be believed."""
    report = FleetReport()
    for path, state in (("/srv/a", "SYNCING"), ("/srv/b", "ON_FIRE")):
        report.add_result("web01", single(path, status(state)))
    assert [record.state for record in report.records()] == ["UNKNOWN", "UNKNOWN"]
    suite = ET.fromstring(render_junit(report.records(), now=NOW)).find("testsuite")
    assert (suite.get("skipped"), suite.get("failures"), suite.get("errors")) == ("0", "0", "2")


# -- HTML -------------------------------------------------------------------------------------------------------------


def test_html_escapes_everything(sample_report):
    page = render_html(sample_report.records(), now=NOW)
    assert page.count("<script") == 1 and "<script>alert" not in page and SCRIPT_DETAIL in html.unescape(page)  # the filter's own only
    report = FleetReport()
    report.add_result('web"01<x-host>', single("/srv/<x-path>app", status("DRIFTED", '"><img src=x>', None)))
    page = render_html(report.records(), now=NOW)
    assert "<x-" not in page and "<img" not in page
    assert '<td class="host">web&#34;01&lt;x-host&gt;</td>' in page
    assert '"><img src=x>' in [html.unescape(title) for title in re.findall(r'title="([^"]*)"', page)]


def test_html_is_self_contained_and_drifted_first(sample_report):
    page = render_html(sample_report.records(), now=NOW)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=|@import|url\(", page)  # no external assets
    rows = re.findall(r'<tr class="st-([a-z-]+)" data-checkout>\s*<td class="host">([^<]*)</td>\s*<td class="path">(.*?)</td>', page)
    assert [(host, path.replace("<wbr>", ""), state) for state, host, path in rows] == [
        (host, path, state.lower().replace("_", "-")) for host, path, state in SAMPLE_ORDER
    ]
    assert f'<code title="{DEPLOYED}" class="differs">1f0c3b9e2d4a</code>' in page
    assert f'<code title="{DESIRED}">8f3c2a9d0b6e</code>' in page
    assert "<li>tracked files modified: conf/app.ini</li>" in page
    assert "4 hosts, 7 checkouts: 3 in sync, 2 drifted, 1 unknown, 1 error" in page
    assert "position: sticky" in page and "nth-child(even)" in page


def test_the_release_and_the_previous_one_are_in_junit_and_html():
    record = CheckoutRecord(
        "web01",
        "/srv/app/current",
        "IN_SYNC",
        release="/srv/app/releases/r2",
        previous_release="/srv/app/releases/r1",
        last_switch="2026-12-04T07:15:00Z by ops (update)",
    )
    plain = CheckoutRecord("web01", "/srv/site", "IN_SYNC")
    out = ET.fromstring(render_junit([record, plain], now=NOW).encode("utf-8"))
    texts = {case.get("name"): case.find("system-out").text for case in out.iter("testcase")}
    assert texts["/srv/app/current"].endswith(
        "release: /srv/app/releases/r2\nprevious release: /srv/app/releases/r1\nlast switch: 2026-12-04T07:15:00Z by ops (update)"
    )
    assert "release" not in texts["/srv/site"]
    page = render_html([record, plain], now=NOW)
    assert '<div class="release" title="/srv/app/releases/r2">release r2, previous r1; switched 2026-12-04T07:15:00Z by ops (update)</div>' in page
    assert page.count('class="release"') == 1


def test_a_table_of_no_width_cuts_nothing_and_gives_each_detail_a_line():
    report = FleetReport()
    details = ["revision differs: recorded 1f0c3b9e2d4a, desired 8f3c2a9d0b6e (250 commits behind)", "untracked files: a, b, c"]
    report.add_result("host-with-a-really-long-name.datacenter-one.example.com", single("/opt/releases/service/current", status("DRIFTED", details=details)))
    lines = render_table(report.records(), width=None).splitlines()
    assert "host-with-a-really-long-name.datacenter-one.example.com  /opt/releases/service/current  DRIFTED" in lines[2]
    assert lines[2].endswith(details[0]) and lines[3].strip() == details[1] and "\u2026" not in "\n".join(lines)
    assert [state for _line, state in table_lines(report.records(), width=None)] == [None, None, "DRIFTED", "DRIFTED", "DRIFTED"]


def test_html_of_a_check_mode_run_says_would_change_never_changed():
    report = FleetReport()
    report.add_result("web01", single("/srv/app", status("DRIFTED", DESIRED, DEPLOYED), changed=True), check_mode=True)
    report.add_result("web01", single("/srv/tools", status()), check_mode=True)
    page = render_html(report.records(), now=NOW)
    assert '<span class="tag check">check mode</span> 1 would change &middot;' in page
    assert '<span class="tag check">would change</span>' in page and '<span class="tag">changed</span>' not in page
    report.add_result("web02", single("/srv/app", status(), changed=True))  # a real change in the same run
    mixed = render_html(report.records(), now=NOW)
    assert "1 would change, 1 changed" in mixed and '<span class="tag">changed</span>' in mixed
    real = FleetReport()
    real.add_result("web01", single("/srv/app", status(), changed=True))
    assert "1 changed in this run" in render_html(real.records(), now=NOW) and "check mode" not in render_html(real.records(), now=NOW)


def test_html_shows_the_repository_and_the_version_asked_for(sample_report):
    page = render_html(sample_report.records(), now=NOW)
    assert "<th>Host</th><th>Checkout</th><th>Repository</th><th>Version</th><th>State</th>" in page
    conf = re.search(r'<tr class="st-drifted" data-checkout>\s*<td class="host">web01</td>.*?</tr>', page, re.S).group(0)
    assert '<td class="repo">git@git.example.com:ops/<wbr>app-config.git</td>\n<td class="version"><code>v2.4.1</code></td>' in conf
    assert '<td class="repo">https:/<wbr>/<wbr>git.example.com/<wbr>team/<wbr>app.git</td>' in page
    broken = re.search(r'<td class="host">db01</td>\s*<td class="path">/<wbr>srv/<wbr>broken</td>\s*(.*?)\n(.*?)\n', page).groups()
    assert broken == ('<td class="repo"><span class="none">&mdash;</span></td>', '<td class="version"><span class="none">&mdash;</span></td>')
    assert 'colspan="9"' in render_html([], now=NOW)


def test_html_skew_view_counts_the_hosts_on_each_commit_and_marks_the_desired_one():
    report = FleetReport()
    old = "0" * 40
    for number, actual in enumerate([DEPLOYED, DEPLOYED, DESIRED, old, DEPLOYED], start=1):
        report.add_result(f"web{number:02}", single("/srv/app", asked(status("DRIFTED" if actual != DESIRED else "IN_SYNC", DESIRED, actual))))
    report.add_result("web01", single("/etc/app/conf.d", asked(status(), CONF_REPO, "v2.4.1")))
    page = render_html(report.records(), now=NOW)
    views = re.findall(r'<table class="skew">\s*<thead><tr><th class="repo" colspan="4">(.*?)</th></tr></thead>(.*?)</table>', page, re.S)
    headers = [html.unescape(re.sub(r"<[^>]+>", "", header)) for header, _body in views]
    assert headers == ["git@git.example.com:ops/app-config.git \u00b7 v2.4.1 \u00b7 1 host", f"{APP_REPO} \u00b7 main \u00b7 5 hosts skew"]
    commits = re.findall(
        r'<tr( class="desired")?>\s*<td class="sha"><code title="([0-9a-f]+)">.*?</td>\s*<td class="count">([^<]*)</td>.*?<td class="hosts">([^<]*)</td>',
        views[1][1],
        re.S,
    )
    assert commits == [
        ("", DEPLOYED, "3 hosts", "web01, web02, web05"),
        (' class="desired"', DESIRED, "1 host", "web03"),
        ("", old, "1 host", "web04"),
    ]
    assert '<span class="tag desired">desired</span>' in views[1][1] and '<span style="width: 60.000%"></span>' in views[1][1]


def test_many_hosts_on_one_commit_are_counted_with_the_first_few_named():
    report = FleetReport()
    for number in range(1, 12):
        report.add_result(f"web{number}", single("/srv/app", asked(status())))
    page = render_html(report.records(), now=NOW)
    assert '<td class="count">11 hosts</td>' in page and "web1, web2, web3, web4, web5, web6, web7, web8 +3 more" in page


def test_the_one_script_is_the_filter_admitted_by_its_digest_and_the_page_works_without_it(sample_report):
    page = render_html(sample_report.records(), now=NOW)
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    assert f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'" in page  # no other script runs
    assert "innerHTML" not in script and "textContent" in script and "classList" in script
    # Without JavaScript the filter box stays hidden and every row shows: no row is hidden by the markup.
    assert '<div class="filter" id="filter-bar" hidden>' in page and not re.search(r'class="[^"]*filtered-out', page)
    assert page.count("data-checkout>") == len(sample_report)
