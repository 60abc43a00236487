# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checkouts role against a fleet: 20 local hosts and 3 reached over real SSH, 3 checkouts each.

Drift is planted on some hosts (a hand edit, an old revision, a missing
checkout); `--check` must report exactly those and touch nothing, a real run
must fix exactly those, and the report files must say so. Run by runme.sh
under ansible-test; every server it needs (git daemon, HTTPS, sshd) is
started here, on 127.0.0.1, and stopped at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "setup_gitops" / "files"))
from gitserve import GitServers, SshServer  # noqa: E402  pylint: disable=wrong-import-position

LOCAL_HOSTS = [f"local{n:02}" for n in range(1, 21)]
SSH_HOSTS = [f"ssh{n:02}" for n in range(1, 4)]
CHECKOUTS = {"app": "srv/app", "config": "etc/config", "site": "srv/site"}
OWNER = "fleetops-gitops-test"
SECRET = "s3cret-pw"
PLANTED = {("local03", "app"), ("local07", "config"), ("local12", "site"), ("ssh02", "config"), ("ssh03", "app")}
IDENTITY = {
    "GIT_AUTHOR_NAME": "Upstream",
    "GIT_AUTHOR_EMAIL": "up@example.invalid",
    "GIT_COMMITTER_NAME": "Upstream",
    "GIT_COMMITTER_EMAIL": "up@example.invalid",
}


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"ok: {message}", flush=True)


def git(*args: str, cwd: Path | None = None) -> str:
    env = dict(os.environ, **IDENTITY)
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def make_upstreams(served: Path) -> None:
    for name in CHECKOUTS:
        path = served / name
        git("init", "--quiet", "--initial-branch=main", str(path))
        for number in range(3):
            (path / f"{name}.conf").write_text(f"{name} revision {number}\n")
            git("add", "--all", cwd=path)
            git("commit", "--quiet", "-m", f"{name} {number}", cwd=path)
        if name == "site":
            git("tag", "-a", "-m", "release", "v1.0", cwd=path)
            (path / "unreleased.txt").write_text("after the tag\n")
            git("add", "--all", cwd=path)
            git("commit", "--quiet", "-m", "after the tag", cwd=path)


def ensure_owner() -> None:
    if subprocess.run(["id", OWNER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", OWNER], check=True)


class Fleet:
    def __init__(self, work: Path, servers: GitServers, sshd: SshServer, extra_args: list[str]) -> None:
        self.work = work
        self.servers = servers
        self.extra_args = extra_args
        self.reports = work / "reports"
        self.inventory = work / "inventory.ini"
        self.published_file = work / "published.json"
        common = f"fleet_root={work}/hosts/{{host}} ansible_python_interpreter={sys.executable}"
        lines = ["[fleet]"]
        lines += [f"{host} ansible_connection=local {common.format(host=host)}" for host in LOCAL_HOSTS]
        known_hosts = work / "known_hosts"
        known_hosts.write_text(sshd.known_hosts)
        lines += [
            f"{host} ansible_host=127.0.0.1 ansible_port={sshd.ports[host]} ansible_user=root "
            f"ansible_ssh_private_key_file={sshd.key} {common.format(host=host)} "
            f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes'"
            for host in SSH_HOSTS
        ]
        https = servers.https_url.replace("https://", f"https://alice:{SECRET}@")
        lines += [
            "[fleet:vars]",
            f"git_url={servers.git_url}",
            f"https_url={https}",
            f"served={servers.root}",
            f"ca_file={servers.ca_file}",
            f"app_owner={OWNER}",
            f"report_dir={self.reports}",
            f"published_file={self.published_file}",
        ]
        self.inventory.write_text("\n".join(lines) + "\n")

    def play(self, *args: str, expect_rc: int = 0, playbook: str = "site.yml", controller_trusts_https: bool = True) -> str:
        trust = {"GIT_SSL_CAINFO": self.servers.ca_file} if controller_trusts_https else {}  # the controller resolves versions too
        env = dict(
            os.environ,
            **trust,
            ANSIBLE_FORKS="12",
            ANSIBLE_HOST_KEY_CHECKING="True",
            ANSIBLE_CALLBACKS_ENABLED=",".join(filter(None, [os.environ.get("ANSIBLE_CALLBACKS_ENABLED"), "fleetops.gitops.gitops_report"])),
        )
        shutil.rmtree(self.reports, ignore_errors=True)
        self.published_file.unlink(missing_ok=True)
        started = time.monotonic()
        run = subprocess.run(
            ["ansible-playbook", "-i", str(self.inventory), _playbook(playbook), *args, *self.extra_args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        print(run.stdout[-4000:])
        check(
            run.returncode == expect_rc,
            f"ansible-playbook {' '.join(args)} exited {run.returncode} (expected {expect_rc}) in {time.monotonic() - started:.1f}s",
        )
        check(SECRET not in run.stdout, "the HTTPS password appears nowhere in the output")
        return run.stdout

    def report(self) -> dict:
        data = json.loads((self.reports / "gitops-report.json").read_text())
        check(SECRET not in json.dumps(data), "the HTTPS password appears nowhere in the report")
        return data

    def published(self) -> dict[str, dict]:
        """What the role set on each host (site.yml records it): checkouts_changed, checkouts_drifted, gitops_status."""
        return json.loads(self.published_file.read_text())

    def checkout_path(self, host: str, name: str) -> Path:
        return self.work / "hosts" / host / CHECKOUTS[name]

    def rows(self, report: dict) -> dict[tuple[str, str], dict]:
        by_path = {str(self.checkout_path(host, name)): (host, name) for host in LOCAL_HOSTS + SSH_HOSTS for name in CHECKOUTS}
        return {by_path[row["path"]]: row for row in report["checkouts"]}

    def digest(self) -> str:
        digest = hashlib.sha256()
        for root, dirs, files in os.walk(self.work / "hosts"):
            dirs.sort()
            for name in sorted(dirs + files):
                path = os.path.join(root, name)
                info = os.lstat(path)
                digest.update(f"{path}\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
                if os.path.isfile(path) and not os.path.islink(path):
                    digest.update(Path(path).read_bytes())
        return digest.hexdigest()


def _playbook(name: str) -> str:
    """A playbook of this folder, or one of the collection's (fleetops.gitops.rollout), run by its name as users do."""
    return name if name.startswith("fleetops.gitops.") else str(HERE / name)


def plant_drift(fleet: Fleet) -> None:
    (fleet.checkout_path("local03", "app") / "app.conf").write_text("hand edit\n")
    config = fleet.checkout_path("local07", "config")
    git("-C", str(config), "checkout", "--quiet", "-B", "main", "HEAD~1")  # an old revision
    shutil.rmtree(fleet.checkout_path("local12", "site"))  # a missing checkout
    (fleet.checkout_path("ssh02", "config") / "config.conf").write_text("hand edit over ssh\n")
    (fleet.checkout_path("ssh02", "config") / "stray.txt").write_text("untracked\n")
    shutil.rmtree(fleet.checkout_path("ssh03", "app"))


def check_published(fleet: Fleet, out: str, changed: set[tuple[str, str]], drifted: set[tuple[str, str]], check_mode: bool = False) -> None:
    """The role's own outputs agree with the run: checkouts_changed and checkouts_drifted (in the order of
    checkouts_list), gitops_status with every checkout and its state, and the "checkouts changed" handler topic
    notified on exactly the hosts where something changed (saying, in check mode, that a real run would change them)."""
    published = fleet.published()
    hosts = LOCAL_HOSTS + SSH_HOSTS
    check(sorted(published) == sorted(hosts), "every host published its facts")

    def paths(host: str, which: set[tuple[str, str]]) -> list[str]:
        return [str(fleet.checkout_path(host, name)) for name in CHECKOUTS if (host, name) in which]

    check(
        all(published[host]["changed"] == paths(host, changed) for host in hosts),
        f"checkouts_changed lists exactly the changed checkouts of each host ({len(changed)})",
    )
    check(
        all(published[host]["drifted"] == paths(host, drifted) for host in hosts),
        f"checkouts_drifted lists exactly the drifted checkouts of each host ({len(drifted)})",
    )
    states = {(host, name): published[host]["status"].get(str(fleet.checkout_path(host, name)), {}).get("state") for host in hosts for name in CHECKOUTS}
    check(
        all((state == "IN_SYNC") != (key in drifted) for key, state in states.items()),
        "gitops_status holds every checkout of each host, drifted exactly where checkouts_drifted says",
    )
    handler = out.split("RUNNING HANDLER [fleetops.gitops.checkouts : Say which checkouts changed]", 1)[1:]
    wording = "Checkouts a real run would change" if check_mode else "Checkouts changed"
    said = dict(re.findall(rf'ok: \[(\S+)\] => \{{\s+"msg": "{wording}: ([^"]*)"', handler[0] if handler else ""))
    check(
        said == {host: ", ".join(listed) for host in hosts if (listed := paths(host, changed))},
        f"the handler topic 'checkouts changed' fired on exactly the hosts where something changed ({len(said)})",
    )


def check_who_resolves(fleet: Fleet) -> None:
    """The controller resolves versions for a play of many hosts, and leaves a lone host to resolve its own.

    Seen through a controller that does not trust the HTTPS server's certificate (the hosts do, through the play's
    environment): it stops a two-host play, and a one-host play does not need it.
    """
    out = fleet.play("--limit", "local01,local02", controller_trusts_https=False, expect_rc=2)
    check("resolve_on_controller: the controller could not resolve a version" in out, "a play of two hosts resolves its versions on the controller")
    fleet.play("--limit", "local01", controller_trusts_https=False)
    check(all(row["state"] == "IN_SYNC" for row in fleet.report()["checkouts"]), "a play of one host resolves them itself")


def path_without_git(work: Path) -> str:
    """A PATH with every command of the system but git, as on a host where git is not installed."""
    folder = work / "bin-without-git"
    folder.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        for name in os.listdir(directory):
            if not name.startswith("git") and not (folder / name).exists():
                (folder / name).symlink_to(os.path.join(directory, name))
    return str(folder)


def check_without_git(fleet: Fleet) -> None:
    """The role finds git missing through the module's `git_missing`, installs it, and tries again.

    git stays off this PATH whatever the package manager does, so the second attempt fails too: what is
    checked is that the role took that path, or stopped at once when told not to install git.
    """
    common = ["--limit", "local01", "-e", f"nogit_path={path_without_git(fleet.work)}"]
    install = "Install git, which the host lacks"
    out = fleet.play(*common, "-e", "install_git=false", playbook="nogit.yml", expect_rc=2)
    first = task_output(out, "Sync the checkouts")
    check(
        "git is not installed" in first and '"git_missing": true' in first and f" : {install}]" not in out,
        "without checkouts_install_git the role stops with the module's own result (git_missing kept) and installs nothing",
    )
    out = fleet.play(*common, "-e", "install_git=true", playbook="nogit.yml", expect_rc=2)
    check("fatal:" not in task_output(out, "Sync the checkouts"), "with checkouts_install_git, git_missing lets the first call through")
    check("ok: [local01]" in task_output(out, install), "with checkouts_install_git the role ran the package manager for git")
    check("git is not installed" in task_output(out, "Sync the checkouts, now with git"), "and then made the call once more")


def task_output(out: str, name: str) -> str:
    """What ansible-playbook printed for the (first) task of that name."""
    check(f" : {name}]" in out, f"the task '{name}' ran")
    return out.split(f" : {name}]", 1)[1].split("\nTASK [", 1)[0]


def check_junit(fleet: Fleet, drifted: set[tuple[str, str]]) -> None:
    root = ET.parse(fleet.reports / "gitops-report.junit.xml").getroot()
    cases = root.iter("testcase")
    failing = {(case.get("classname"), case.get("name")) for case in cases if case.find("failure") is not None}
    expected = {(host, str(fleet.checkout_path(host, name))) for host, name in drifted}
    check(failing == expected, f"JUnit marks exactly the drifted checkouts as failures ({len(failing)})")
    check(len(list(root.iter("testsuite"))) == len(LOCAL_HOSTS + SSH_HOSTS), "JUnit has one test suite per host")


def check_html(fleet: Fleet, artifacts: Path) -> None:
    html = fleet.reports / "gitops-report.html"
    chromium = shutil.which("chromium")
    if chromium is None:
        check(os.environ.get("FLEETOPS_REQUIRE_CHROMIUM") != "1", "chromium is installed (FLEETOPS_REQUIRE_CHROMIUM=1)")
        print("skip: no chromium here, the HTML report was not opened in a browser")
        return
    profile = tempfile.mkdtemp(prefix="fleet-chromium-")
    flags = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "fleet-report.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1400,1000", html.as_uri()],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    dom = subprocess.run([*flags, "--dump-dom", html.as_uri()], check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=120).stdout
    shutil.rmtree(profile, ignore_errors=True)
    shutil.copy(html, artifacts / "fleet-report.html")
    check(shot.stat().st_size > 10_000, f"Chromium rendered the HTML report to {shot}")
    check(all(host in dom for host, _name in PLANTED) and "DRIFTED" in dom, "the page shows the drifted hosts and their state")
    table = dom.split('id="checkouts"', 1)[-1]  # after the revision skew view, which names hosts too
    check(table.index("local03") < table.index("local01"), "drifted checkouts come first in the page's table")
    check("Revisions per repository" in dom and 'id="filter"' in dom, "the page has the revision skew view and the filter box")


def main() -> None:
    from rollout import check_rollout  # noqa: PLC0415  pylint: disable=import-outside-toplevel  # rollout.py imports this file

    work = Path(tempfile.mkdtemp(prefix="fleet-"))
    work.chmod(0o755)
    artifacts = Path(os.environ.get("JUNIT_OUTPUT_DIR", work / "junit")).parent / "artifacts"
    (work / "served").mkdir()
    make_upstreams(work / "served")
    ensure_owner()
    sshd = None
    try:
        with GitServers(str(work / "served"), auth=f"alice:{SECRET}") as servers:
            sshd = SshServer(str(work / "ssh"), SSH_HOSTS)
            fleet = Fleet(work, servers, sshd, sys.argv[1:])
            every = {(host, name) for host in LOCAL_HOSTS + SSH_HOSTS for name in CHECKOUTS}

            out = fleet.play()
            check_published(fleet, out, changed=every, drifted=set())
            rows = fleet.rows(fleet.report())
            check(
                set(rows) == every and all(r["state"] == "IN_SYNC" for r in rows.values()),
                f"the first run brought all {len(every)} checkouts of {len(LOCAL_HOSTS + SSH_HOSTS)} hosts in sync",
            )
            app_owner = (fleet.checkout_path("ssh01", "app") / "app.conf").stat().st_uid
            check(app_owner == int(subprocess.check_output(["id", "-u", OWNER])), "the app checkouts belong to their owner")

            out = fleet.play()
            check(not any(r["changed"] for r in fleet.rows(fleet.report()).values()), "a second run changes nothing")
            check_published(fleet, out, changed=set(), drifted=set())

            plant_drift(fleet)
            before = fleet.digest()
            requests = len(servers.http_requests)
            out = fleet.play("--check", "--diff")
            rows = fleet.rows(fleet.report())
            drifted = {key for key, row in rows.items() if row["state"] != "IN_SYNC"}
            check(drifted == PLANTED, f"--check reports exactly the planted drift: {sorted(drifted)}")
            check({key for key, row in rows.items() if row["changed"]} == PLANTED, "--check shows exactly those as changed")
            check(all(row["check_mode"] for row in rows.values()), "--check reports every checkout as a prediction (check_mode)")
            check(fleet.digest() == before, "--check left every host's files untouched, .git included")
            check_published(fleet, out, changed=PLANTED, drifted=PLANTED, check_mode=True)
            asked = [line for line in servers.http_requests[requests:] if line.startswith("POST")]
            # protocol v2: one POST (ls-refs) for the controller's ls-remote of the whole fleet; check mode fetches only
            # to look at the tag of the missing checkout (local12's site, v1.0: its last commit, into a throwaway
            # repository), two POSTs (ls-refs, fetch), and nothing for the checkouts it has
            check(len(asked) == 3, f"the HTTPS git server answered one ls-remote for the whole fleet and one look at a tag ({asked})")
            check("+modified: config.conf" not in out and "-modified: config.conf" in out, "--diff shows the hand edit that would go")
            table = [line for line in out.splitlines() if line.startswith(("local", "ssh")) and "DRIFTED" in line]
            check(
                sorted(line.split()[0] for line in table) == sorted(host for host, _name in PLANTED),
                "the report table in the terminal lists the drifted checkouts",
            )
            check_junit(fleet, PLANTED)
            check_html(fleet, artifacts)

            out = fleet.play()
            rows = fleet.rows(fleet.report())
            check({key for key, row in rows.items() if row["changed"]} == PLANTED, "the real run fixed exactly the planted drift")
            check(not any(row["check_mode"] for row in rows.values()), "a real run reports no prediction (check_mode false)")
            check_published(fleet, out, changed=PLANTED, drifted=set())
            check(all(row["state"] == "IN_SYNC" for row in rows.values()), "every checkout is in sync again")
            backups = git(
                "-C",
                str(fleet.checkout_path("local03", "app")),
                "-c",
                f"safe.directory={fleet.checkout_path('local03', 'app')}",
                "for-each-ref",
                "refs/gitops/backups/",
            )
            check(bool(backups), "the hand edit on local03 was kept in a backup ref")

            fleet.play("--check")
            check(not any(r["changed"] or r["state"] != "IN_SYNC" for r in fleet.rows(fleet.report()).values()), "--check after the fix reports no drift")

            git("commit", "--quiet", "--allow-empty", "-m", "moves on", cwd=work / "served" / "app")
            out = fleet.play("-e", "checkouts_mode=audit", "-e", "checkouts_fail_on_drift=true", expect_rc=2)
            failed = dict(re.findall(r'fatal: \[(\S+)\]: FAILED! => \{.*"msg": "Drifted checkouts: ([^"]*)"', out))
            check(
                failed == {host: str(fleet.checkout_path(host, "app")) for host in LOCAL_HOSTS + SSH_HOSTS},
                "checkouts_fail_on_drift failed every host, naming its drifted checkout",
            )
            rows = fleet.rows(fleet.report())
            apps = {key: row for key, row in rows.items() if key[1] == "app"}
            check(all(row["state"] == "DRIFTED" for row in apps.values()), "the audit finds every app checkout behind")
            check(
                all(row["state"] == "IN_SYNC" for key, row in rows.items() if key[1] != "app"),
                "and nothing else: the checkouts on a tag (site, v1.0) are in sync, as a sync sees them",
            )
            check(len({row["desired_revision"] for row in apps.values()}) == 1, "every host was given the same desired revision")

            check_who_resolves(fleet)
            check_without_git(fleet)
            check_rollout(fleet, work / "served")
    finally:
        if sshd is not None:
            sshd.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
