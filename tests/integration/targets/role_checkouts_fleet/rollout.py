# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's rollout playbook over the fleet of fleet.py, run as users run it.

A new revision of the app breaks one host of the second wave: its health check (an HTTP request to a test server on
127.0.0.1, which answers from the checkout it finds on disk) fails, the host's app goes back to its old revision, the
operator's restart handler runs for the change and again for the revert, and the later waves never start.
"""

from __future__ import annotations

import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fleet import HERE, LOCAL_HOSTS, SSH_HOSTS, Fleet, check, git

BROKEN_HOST = "local03"
WAVES = [1, 3, "100%"]  # local01; local02 to local04; the rest
WAVES_RUN = [["local01"], ["local02", BROKEN_HOST, "local04"]]  # the third never starts
NEW_APP = "app revision that breaks local03\n"
OLD_APP = "app revision 2\n"  # fleet.py's last app.conf


class HealthServer(ThreadingHTTPServer):
    """GET /health/<host>: 503 while <host>'s app checkout holds the revision that breaks it, 200 otherwise."""

    def __init__(self, hosts_root: Path) -> None:
        self.hosts_root = hosts_root
        self.answers: list[tuple[str, int]] = []
        super().__init__(("127.0.0.1", 0), _HealthHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/health"

    def answers_for(self, host: str) -> list[int]:
        return [status for name, status in self.answers if name == host]


class _HealthHandler(BaseHTTPRequestHandler):
    server: HealthServer

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        host = self.path.rsplit("/", 1)[-1]
        app = self.server.hosts_root / host / "srv/app/app.conf"
        broken = host == BROKEN_HOST and app.is_file() and app.read_text() == NEW_APP
        status = 503 if broken else 200
        self.server.answers.append((host, status))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def check_rollout(fleet: Fleet, served: Path) -> None:
    """``ansible-playbook fleetops.gitops.rollout -i inventory -e @rollout.yml`` with a health check that fails on one
    host of the second wave (the default max_fail_percentage, 0)."""
    hosts = LOCAL_HOSTS + SSH_HOSTS
    before = {host: head(fleet, host) for host in hosts}
    (served / "app" / "app.conf").write_text(NEW_APP)
    git("commit", "--quiet", "--all", "-m", "a revision local03 cannot run", cwd=served / "app")
    new = git("rev-parse", "HEAD", cwd=served / "app")
    restart = fleet.work / "restart.yml"
    restart.write_text(
        json.dumps(
            [
                {
                    "name": "Restart the app (the test's stand-in), noting the revision it runs",
                    "ansible.builtin.shell": "cat {{ fleet_root }}/srv/app/app.conf >> {{ fleet_root }}/restarts.log",
                    "changed_when": True,
                }
            ]
        )
    )
    server = HealthServer(fleet.work / "hosts")
    variables = fleet.work / "rollout.yml"
    variables.write_text(
        json.dumps(
            {
                "checkouts_health_check": {"url": server.url + "/{{ inventory_hostname }}", "retries": 1, "delay": 0, "timeout": 5},
                "rollout_waves": WAVES,
                "rollout_on_change": str(restart),
            }
        )
    )
    files = ("-e", f"@{HERE / 'checkouts.yml'}", "-e", f"@{variables}")
    try:
        requests = len(fleet.servers.http_requests)
        out = fleet.play(*files, playbook="fleetops.gitops.rollout", expect_rc=2)
        asked = [line for line in fleet.servers.http_requests[requests:] if line.startswith("POST")]
        check_rollout_report(fleet, [host for wave in WAVES_RUN for host in wave], new, before[BROKEN_HOST])
        check_rollout_in_check_mode(fleet, server, files)
    finally:
        server.shutdown()
    started = [host for wave in WAVES_RUN for host in wave]
    check(
        all(head(fleet, host) == new for host in started if host != BROKEN_HOST),
        "the healthy hosts of the first two waves run the new revision, those of the broken host's wave included",
    )
    check(head(fleet, BROKEN_HOST) == before[BROKEN_HOST], f"{BROKEN_HOST} is back on its old revision")
    check(server.answers_for(BROKEN_HOST) == [503, 503, 200], f"{BROKEN_HOST} failed its health check (twice: one retry) and passed it after the revert")
    others = {host: server.answers_for(host) for host in started if host != BROKEN_HOST}
    check(all(answers == [200] for answers in others.values()), f"every other host of those waves was checked once, and healthy ({others})")
    restarts = (fleet.work / "hosts" / BROKEN_HOST / "restarts.log").read_text()
    check(restarts == NEW_APP + OLD_APP, f"the operator's handler ran on {BROKEN_HOST} for the change and again for the revert")
    later = [host for host in hosts if host not in started]
    check(all(head(fleet, host) == before[host] for host in later), f"the later waves never started ({len(later)} hosts untouched)")
    check(not any(f"[{host}]" in out for host in later), "ansible-playbook ran no task on them")
    failure = out.rsplit(f"fatal: [{BROKEN_HOST}]: FAILED! =>", 1)[-1].split("\n", 1)[0]  # the last: the role's verdict
    check(
        "The health check failed after" in failure
        and "HTTP 503" in failure
        and "Put back at the revision before the run" in failure
        and "HTTP 200 (healthy)" in failure,
        f"{BROKEN_HOST} failed with both outcomes in its message",
    )
    check(len(asked) == 1, f"one ls-remote of the HTTPS repository for the whole rollout, all waves together ({asked})")


def check_rollout_in_check_mode(fleet: Fleet, server: HealthServer, files: tuple[str, ...]) -> None:
    """--check runs every wave as a prediction: no health check, no revert, no handler's work, nothing on disk."""
    before, answers = fleet.digest(), len(server.answers)
    fleet.play(*files, "--check", playbook="fleetops.gitops.rollout")
    check(len(server.answers) == answers, "--check asked no health check")
    check(fleet.digest() == before, "--check left every host's files untouched, the handler's log included")
    rows = fleet.rows(fleet.report())
    behind = {(host, "app") for host in LOCAL_HOSTS + SSH_HOSTS if host not in ("local01", "local02", "local04")}
    check({key for key, row in rows.items() if row["changed"]} == behind, f"--check predicts the rollout of every host not on the new revision ({len(behind)})")


def check_rollout_report(fleet: Fleet, started: list[str], new: str, old: str) -> None:
    report = fleet.report()
    rows = fleet.rows(report)
    check({host for host, _name in rows} == set(started), "the report holds the hosts of the waves that ran, and only them")
    broken = rows[(BROKEN_HOST, "app")]
    check(
        broken["state"] == "ERROR" and broken["health"] == "reverted" and broken["desired_revision"] == new and broken["actual_revision"] == old,
        f"the report shows {BROKEN_HOST}'s app as an error: the new revision asked for, the old one running, put back",
    )
    check(
        broken["drift_details"][0].startswith("health check failed after the change to")
        and "health check after the revert passed: HTTP 200" in broken["drift_details"],
        "its details say what the health check found before and after the revert",
    )
    healthy = [row for (host, name), row in rows.items() if name == "app" and host != BROKEN_HOST]
    check(all(row["health"] == "passed" and row["state"] == "IN_SYNC" for row in healthy), "the other app checkouts passed their health check")
    check(all(row["health"] is None for (_host, name), row in rows.items() if name != "app"), "checkouts that did not change carry no health")
    check(report["summary"]["health"] == {"passed": len(healthy), "failed": 0, "reverted": 1}, "the summary counts the health checks")


def head(fleet: Fleet, host: str) -> str:
    path = str(fleet.checkout_path(host, "app"))
    return git("-C", path, "-c", f"safe.directory={path}", "rev-parse", "HEAD")
