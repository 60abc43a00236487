"""The checkouts role and the report callback run through ansible-runner, the engine AWX and Automation Platform use.

AWX does not read a terminal: it reads ansible-runner's events and artifacts. This runs the installed collection
(``ANSIBLE_COLLECTIONS_PATH``) on two local hosts over a file:// upstream, first to clone, then as an audit after
the upstream moved, and checks what such a consumer sees: the run's status, the events of the role's tasks with
their results, the handler topic, the callback's summary in the run's stdout and its JSON report.

Usage: python runner_check.py <collections-path> <work-folder>
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

import ansible_runner

HOSTS = ("web1", "web2")
PLAYBOOK = """\
- name: Keep the checkouts in step, as an AWX job template would
  hosts: all
  gather_facts: false
  roles:
    - role: fleetops.gitops.checkouts
      vars:
        checkouts_list:
          - repo: "file://{{ upstream }}"
            dest: "{{ work }}/hosts/{{ inventory_hostname }}/srv/app"
        checkouts_install_git: false
        checkouts_report_dir: "{{ work }}/reports/{{ checkouts_mode }}"
  handlers:
    - name: Restart the application
      ansible.builtin.debug:
        msg: "restart on {{ inventory_hostname }}"
      listen: checkouts changed
"""


class CheckFailed(Exception):
    """What a consumer of ansible-runner's events would have seen go wrong."""


def git(*args: str, cwd: str) -> str:
    """Run git for the fixture upstream (never for the collection: the role does that)."""
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    identity = ["-c", "user.name=fixture", "-c", "user.email=fixture@example.invalid", "-c", "init.defaultBranch=main"]
    return subprocess.run(["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def commit(upstream: str, text: str) -> str:
    """A new commit on the upstream's main branch; returns its id."""
    with open(os.path.join(upstream, "app.txt"), "w", encoding="utf-8") as handle:
        handle.write(text)
    git("add", "app.txt", cwd=upstream)
    git("commit", "-q", "-m", text, cwd=upstream)
    return git("rev-parse", "HEAD", cwd=upstream)


def run(work: str, collections: str, mode: str, upstream: str) -> t.Any:
    """One ansible-runner run of the playbook; ``mode`` is the role's checkouts_mode."""
    private = os.path.join(work, "runner", mode)
    os.makedirs(os.path.join(private, "project"), exist_ok=True)
    os.makedirs(os.path.join(work, "tmp"), mode=0o700, exist_ok=True)
    with open(os.path.join(private, "project", "site.yml"), "w", encoding="utf-8") as handle:
        handle.write(PLAYBOOK)
    inventory = {
        "all": {
            "hosts": {host: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable} for host in HOSTS},
            "vars": {"upstream": upstream, "work": work, "checkouts_mode": mode},
        }
    }
    return ansible_runner.run(
        private_data_dir=private,
        playbook="site.yml",
        inventory=inventory,
        quiet=True,
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": collections,
            "ANSIBLE_CALLBACKS_ENABLED": "fleetops.gitops.gitops_report",
            "ANSIBLE_NOCOLOR": "1",
            "TMPDIR": os.path.join(work, "tmp"),  # the modules' private folders: not shared with other test runs
        },
    )


def task_results(runner: t.Any, task: str) -> dict[str, dict[str, t.Any]]:
    """Host -> result of the ``runner_on_ok`` events of one task, as AWX stores them."""
    return {
        event["event_data"]["host"]: event["event_data"]["res"]
        for event in runner.events
        if event["event"] == "runner_on_ok" and event["event_data"].get("task") == task
    }


def stdout_of(runner: t.Any) -> str:
    """The run's whole stdout (ansible-runner hands out one file object: read it from the start each time)."""
    handle = runner.stdout
    handle.seek(0)
    return handle.read()


def expect(condition: bool, what: str, runner: t.Any) -> None:
    """Fail with what was expected and the run's stdout, which is all an operator would have."""
    if not condition:
        raise CheckFailed(f"{what}\n--- stdout of the run ---\n{stdout_of(runner)}")


def report(work: str, mode: str) -> dict[str, t.Any]:
    """The callback's JSON report of one run."""
    with open(os.path.join(work, "reports", mode, "gitops-report.json"), encoding="utf-8") as handle:
        return json.load(handle)


def check(collections: str, work: str) -> None:
    """Clone on both hosts, then audit after the upstream moved; check events, handler, stdout and report."""
    upstream = os.path.join(work, "upstream")
    os.makedirs(upstream)
    git("init", "-q", cwd=upstream)
    first = commit(upstream, "one")

    synced = run(work, collections, "sync", upstream)
    expect(synced.status == "successful" and synced.rc == 0, f"the sync run ended {synced.status} (rc {synced.rc})", synced)
    results = task_results(synced, "Sync the checkouts")
    expect(sorted(results) == sorted(HOSTS), f"runner_on_ok of 'Sync the checkouts' for {sorted(results)}", synced)
    for host, result in results.items():
        expect(result["changed"] and len(result["changed_checkouts"]) == 1, f"{host}: the clone is not changed: {result}", synced)
    handled = task_results(synced, "Restart the application")
    expect(sorted(handled) == sorted(HOSTS), f"the 'checkouts changed' handler ran for {sorted(handled)}", synced)
    expect("2 hosts, 2 checkouts: 2 in sync" in stdout_of(synced), "the callback's summary line is not in the run's stdout", synced)
    document = report(work, "sync")
    expect(
        [(item["state"], item["actual_revision"], item["changed"]) for item in document["checkouts"]] == [("IN_SYNC", first, True)] * 2,
        f"the sync report says {document['checkouts']}",
        synced,
    )

    second = commit(upstream, "two")
    audited = run(work, collections, "audit", upstream)
    expect(audited.status == "successful", f"the audit run ended {audited.status} (rc {audited.rc})", audited)
    results = task_results(audited, "Audit the checkouts")
    expect(sorted(results) == sorted(HOSTS), f"runner_on_ok of 'Audit the checkouts' for {sorted(results)}", audited)
    expect(not task_results(audited, "Restart the application"), "the handler ran in audit mode", audited)
    document = report(work, "audit")
    states = [(item["state"], item["desired_revision"], item["actual_revision"]) for item in document["checkouts"]]
    expect(states == [("DRIFTED", second, first)] * 2, f"the audit report says {document['checkouts']}", audited)
    for host in HOSTS:
        head = git("rev-parse", "HEAD", cwd=os.path.join(work, "hosts", host, "srv", "app"))
        expect(head == first, f"{host}: the audit moved the checkout to {head}", audited)


def main() -> int:
    """Run the check; print one line for the log, or what went wrong."""
    collections, work = (os.path.abspath(path) for path in sys.argv[1:3])
    try:
        check(collections, work)
    except CheckFailed as error:
        print(f"error: ansible-runner: {error}", file=sys.stderr)
        return 1
    print("ansible-runner: the role and the report callback ran; events, handler, summary and report as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
