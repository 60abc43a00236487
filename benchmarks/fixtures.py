"""The benchmark's fixtures: upstream repositories, their pristine clones, git daemon, and the start of each scenario.

Every timed run must start from the same state, so before each one ``Fixtures.reset`` lays it down again:
the upstreams' ``main`` at their base commit (for ``update``, at one commit more, made in advance and already
in their object store), and the checkouts as fresh copies of pristine ``git clone``s.
``Fixtures.verify`` then checks that the contender left every checkout where the scenario must leave it.

The partial clone group clones a real project instead, whose history no generator imitates: node_exporter, from the
bundle in ``../shared/realworld`` (absent on a user's fresh clone: the group is then skipped).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git") or "git"  # the real git: fixtures are never counted, whatever the contenders' PATH
SCENARIOS = ("clone", "noop", "check", "update", "drift")
FILE, GIT_DAEMON = "file", "git"  # transports
BASE, NEXT = "base", "next"  # where an upstream's main points: its history, or one commit more (``update``)
WORKERS = 2 * (os.cpu_count() or 1)
REALWORLD = ROOT.parent / "shared" / "realworld"  # bundles of real projects, where ../shared exists (its README.md)
NODE_EXPORTER = REALWORLD / "node_exporter.bundle"  # prometheus/node_exporter: 2,625 commits, default branch master
PARTIAL_CLONE = "partial clone"  # the case group measured on node_exporter
SPARSE_CONE = ("collector",)  # the sparse contender's folders: node_exporter's collectors, a real folder of master
FILTERED = ("partial", "partial_sparse", "git_clone_filter")  # the partial clone group's contenders that clone partially


@dataclass(frozen=True)
class Shape:
    """How big an upstream repository is."""

    files: int
    commits: int


SMALL = Shape(files=20, commits=10)
LARGE = Shape(files=300, commits=50)


def shape(index: int) -> Shape:
    """Every tenth repository is a larger one, the first included, so that even the smoke run has one."""
    return LARGE if index % 10 == 0 else SMALL


def is_drifted(index: int) -> bool:
    """A tenth of the checkouts get a hand edit in the ``drift`` scenario (not the large ones: no correlation)."""
    return index % 10 == 1


def repo_name(index: int) -> str:
    return f"repo-{index:04d}"


@dataclass(frozen=True)
class Case:
    """One measured situation: a scenario on some hosts, each with ``per_host`` checkouts, over one transport."""

    scenario: str
    hosts: tuple[str, ...]
    per_host: int
    contenders: tuple[str, ...]
    transport: str = FILE
    group: str = "one host"

    @property
    def checkouts(self) -> int:
        return len(self.hosts) * self.per_host

    @property
    def size(self) -> str:
        """The checkouts as a reader counts them: ``50``, or ``20×10`` for a fleet."""
        return str(self.per_host) if len(self.hosts) == 1 else f"{len(self.hosts)}×{self.per_host}"

    @property
    def label(self) -> str:
        return f"{self.scenario} {self.size} ({self.group})"


@dataclass(frozen=True)
class Checkout:
    host: str
    index: int
    url: str
    dest: Path
    version: str = "main"

    @property
    def link(self) -> Path:
        """Its ``dest`` in the release layout: the link to the current release, in the checkout's folder."""
        return self.dest / "current"


@dataclass(frozen=True)
class Upstream:
    path: Path
    base: str
    next: str

    def commit(self, at: str) -> str:
        return self.next if at == NEXT else self.base


# -- the upstream repositories, each made by one git fast-import -------------------------------------------


def _file_path(number: int) -> str:
    return "README.md" if number == 0 else f"src/part-{number // 50:02d}/file-{number:03d}.txt"


def _blob(index: int, number: int, commit: int) -> bytes:
    return "".join(f"repository {index}, file {number}, commit {commit}, line {line}\n" for line in range(24)).encode()


def history(index: int) -> bytes:
    """A fast-import stream: the repository's commits, one more (``update``'s), then main moved back to the base.

    The extra commit stays in the object store, unreferenced, so the ``update`` scenario is one ref move away.
    """
    size = shape(index)
    out = []
    for commit in range(1, size.commits + 2):
        message = f"commit {commit}\n".encode()
        out.append(
            b"commit refs/heads/main\nmark :%d\ncommitter Benchmark <benchmark@localhost> %d +0000\ndata %d\n%s"
            % (commit, 1_700_000_000 + 60 * commit, len(message), message)
        )
        for number in range(size.files) if commit == 1 else (commit % size.files,):
            blob = _blob(index, number, commit)
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (_file_path(number).encode(), len(blob), blob))
        out.append(b"\n")
    out.append(b"reset refs/heads/main\nfrom :%d\n\n" % size.commits)
    return b"".join(out)


def git(*args: str | Path, stdin: bytes | None = None, offline: bool = False) -> str:
    """Run the real git for the fixtures; any failure is fatal. ``offline``: no transport at all, so that checking a
    partial clone fails where it lacks an object, instead of git fetching it by itself and hiding that."""
    env = {**os.environ, "GIT_ALLOW_PROTOCOL": "none", "GIT_NO_LAZY_FETCH": "1"} if offline else None
    done = subprocess.run([GIT, *map(str, args)], input=stdin, capture_output=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(map(str, args))} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode()


def make_upstream(folder: Path, index: int) -> Upstream:
    path = folder / f"{repo_name(index)}.git"
    marks = folder / f"{repo_name(index)}.marks"
    git("init", "--quiet", "--bare", "--initial-branch=main", path)
    git("-C", path, "fast-import", "--quiet", f"--export-marks={marks}", stdin=history(index))
    commits = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return Upstream(path, base=commits[f":{shape(index).commits}"], next=commits[f":{shape(index).commits + 1}"])


# -- the real repository of the partial clone group ---------------------------------------------------------


@dataclass(frozen=True)
class RealRepository:
    """A real project's history in a bare repository that allows filters, and what a checkout of its branch holds."""

    path: Path
    branch: str
    commit: str
    commits: int  # on the branch
    files: frozenset[str]  # at the branch's commit: every file and link, no folder

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def cone(self, folders: tuple[str, ...]) -> frozenset[str]:
        """The files a cone-mode sparse checkout of ``folders`` writes: each folder whole, and the files directly in
        the root and in each folder on the way to one."""
        on_the_way = {"/".join(folder.split("/")[:depth]) for folder in folders for depth in range(folder.count("/") + 1)}
        return frozenset(p for p in self.files if p.rpartition("/")[0] in on_the_way or p.startswith(tuple(f"{f}/" for f in folders)))


def unbundle(bundle: Path, folder: Path, branch: str) -> RealRepository:
    """The bundle as a bare repository served the way a partial clone needs: ``uploadpack.allowFilter`` on.

    Fails if a folder of ``SPARSE_CONE`` is not in the branch, so that the sparse contender never measures nothing.
    """
    path = folder / bundle.with_suffix(".git").name
    git("clone", "--bare", "--quiet", bundle, path)
    git("-C", path, "config", "uploadpack.allowFilter", "true")
    commit = git("-C", path, "rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}").strip()
    commits = int(git("-C", path, "rev-list", "--count", commit))
    entries = (line.split("\t", 1) for line in git("-C", path, "ls-tree", "-r", "-z", commit).split("\0") if line)
    files = frozenset(name for meta, name in entries if meta.split()[1] == "blob")
    missing = [f for f in SPARSE_CONE if not any(name.startswith(f"{f}/") for name in files)]
    if missing:
        raise RuntimeError(f"{bundle}: no folder {', '.join(missing)} at {branch}, which the sparse contender checks out")
    return RealRepository(path, branch, commit, commits, files)


def work_tree_files(dest: Path) -> set[str]:
    """Every file and link under ``dest`` (relative, ``/``-separated), ``.git`` left out: what a checkout wrote."""
    found = set()
    for folder, folders, files in os.walk(dest):
        if folder == str(dest) and ".git" in folders:
            folders.remove(".git")
        links = [name for name in folders if os.path.islink(os.path.join(folder, name))]  # not walked into
        found.update(os.path.relpath(os.path.join(folder, name), dest).replace(os.sep, "/") for name in [*files, *links])
    return found


def parallel(function: t.Callable[..., t.Any], *iterables: t.Iterable[t.Any]) -> list[t.Any]:
    """Fixture work on all cores; untimed, it only has to be quick."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(function, *iterables))


# -- git daemon ----------------------------------------------------------------------------------------------


def _gitserve() -> t.Any:
    """The test suite's git server helpers (free_port, wait_for_port), imported from their file."""
    path = ROOT / "tests/integration/targets/setup_gitops/files/gitserve.py"
    spec = importlib.util.spec_from_file_location("gitserve", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class GitDaemon:
    """git daemon on 127.0.0.1 in a session of its own: it forks a child per connection, so stop the whole group."""

    def __init__(self, base: Path) -> None:
        gitserve = _gitserve()
        port = gitserve.free_port()
        self._process = subprocess.Popen(
            [GIT, "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={port}", f"--base-path={base}", str(base)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            gitserve.wait_for_port(port)
        except BaseException:
            self.close()
            raise
        self.url = f"git://127.0.0.1:{port}"

    def close(self) -> None:
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def __enter__(self) -> GitDaemon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- the fixtures as a whole ----------------------------------------------------------------------------------


class Fixtures:
    """Upstreams, pristine clones per transport, and the hosts' folders, all under ``root``."""

    def __init__(self, root: Path, repositories: int) -> None:
        self.root = root
        self.upstream_dir = root / "upstream"
        self.upstream_dir.mkdir(parents=True)
        self.upstreams: list[Upstream] = parallel(lambda i: make_upstream(self.upstream_dir, i), range(repositories))
        self._main_at = [BASE] * repositories
        self.base_urls = {FILE: f"file://{self.upstream_dir}"}

    def serve(self, daemon: GitDaemon) -> None:
        self.base_urls[GIT_DAEMON] = daemon.url

    def url(self, index: int, transport: str) -> str:
        return f"{self.base_urls[transport]}/{repo_name(index)}.git"

    def host_dir(self, host: str) -> Path:
        return self.root / "hosts" / host

    @cached_property
    def node_exporter(self) -> RealRepository:
        """Unbundled on first use, once per run: only a run that measures the partial clone group pays for it."""
        return unbundle(NODE_EXPORTER, self.root / "realworld", "master")

    def checkouts(self, case: Case) -> list[Checkout]:
        if case.group == PARTIAL_CLONE:
            real = self.node_exporter
            return [Checkout(host, 0, real.url, self.host_dir(host) / "node_exporter", real.branch) for host in case.hosts]
        return [
            Checkout(host, index, self.url(index, case.transport), self.host_dir(host) / repo_name(index))
            for host in case.hosts
            for index in range(case.per_host)
        ]

    @staticmethod
    def main_at(case: Case) -> str:
        """Where the upstreams' main is in the case: one commit ahead of the checkouts for ``update``."""
        return NEXT if case.scenario == "update" else BASE

    def point_main(self, count: int, at: str) -> None:
        """Move main of the first ``count`` upstreams to their base or next commit (only those not there yet)."""
        moves = [i for i in range(count) if self._main_at[i] != at]
        parallel(lambda i: git("-C", self.upstreams[i].path, "update-ref", "refs/heads/main", self.upstreams[i].commit(at)), moves)
        for i in moves:
            self._main_at[i] = at

    def pristine(self, transport: str, count: int) -> Path:
        """Plain ``git clone``s of the first ``count`` upstreams at their base commit, made once per transport."""
        folder = self.root / "pristine" / transport
        missing = [i for i in range(count) if not (folder / repo_name(i)).exists()]
        if missing:
            self.point_main(max(missing) + 1, BASE)
            parallel(lambda i: git("clone", "--quiet", self.url(i, transport), folder / repo_name(i)), missing)
        return folder

    def pristine_releases(self, case: Case) -> Path:
        """Each host's release layouts at the base commits, made once per case shape by the collection's own Python API
        (the layout is its to define) where the hosts' folders are, then kept aside: a copy put back at the same path
        is valid (a worktree records absolute paths)."""
        folder = self.root / "pristine-releases" / f"{len(case.hosts)}x{case.per_host}-{case.transport}"
        if not folder.exists():
            from ansible_collections.fleetops.gitops.plugins.module_utils.releases import ReleaseSynchronizer  # noqa: PLC0415

            self.point_main(case.per_host, BASE)
            for host in case.hosts:
                shutil.rmtree(self.host_dir(host), ignore_errors=True)
            parallel(lambda c: ReleaseSynchronizer(c.url, str(c.link)).run("main"), self.checkouts(case))
            folder.mkdir(parents=True)
            for host in case.hosts:
                os.rename(self.host_dir(host), folder / host)
        return folder

    def reset(self, case: Case, contender: str = "") -> None:
        """Lay down the scenario's start: upstreams, absent or pristine checkouts (release layouts for ``releases``),
        hand edits for ``drift``."""
        if contender == "releases":
            self._reset_releases(case)
            return
        pristine = self.pristine(case.transport, case.per_host) if case.scenario != "clone" else None
        self.point_main(case.per_host, self.main_at(case))
        for host in case.hosts:
            shutil.rmtree(self.host_dir(host), ignore_errors=True)
            self.host_dir(host).mkdir(parents=True)
        if pristine is not None:
            self._copy(pristine, case)
        if case.scenario == "drift":
            for checkout in self.checkouts(case):
                if is_drifted(checkout.index):
                    with open(checkout.dest / "README.md", "a", encoding="utf-8") as readme:
                        readme.write("a hand edit on the server\n")

    def _reset_releases(self, case: Case) -> None:
        pristine = self.pristine_releases(case)
        self.point_main(case.per_host, self.main_at(case))
        for host in case.hosts:
            shutil.rmtree(self.host_dir(host), ignore_errors=True)
            subprocess.run(["cp", "-a", str(pristine / host), str(self.host_dir(host))], check=True)
        parallel(lambda c: git("-C", c.link, "update-index", "-q", "--refresh"), self.checkouts(case))

    def _copy(self, pristine: Path, case: Case) -> None:
        """Copy the pristine clones into every host's folder.

        A copy has new inodes and ctimes, so git would take every file for modified until it rehashed it, while a
        real checkout's index is fresh: refresh the index, untimed, so that no contender pays for our copying.
        """
        sources = [str(pristine / repo_name(i)) for i in range(case.per_host)]
        for host in case.hosts:
            subprocess.run(["cp", "-a", *sources, str(self.host_dir(host))], check=True)
        parallel(lambda c: git("-C", c.dest, "update-index", "-q", "--refresh"), self.checkouts(case))

    def verify(self, case: Case, contender: str = "") -> None:
        """Fail unless every checkout is on main at the commit the upstream's main is at, with no local change, and
        the hosts' folders hold nothing else (such as a half-made clone); for ``releases``, every link points at a
        release detached at that commit, with no local change; in the partial clone group, see ``_real_problem``."""
        checkouts = self.checkouts(case)
        names = sorted({c.dest.name for c in checkouts})
        problems = [f"{folder} holds {found}, expected {names}" for folder in map(self.host_dir, case.hosts) if (found := sorted(os.listdir(folder))) != names]
        check = (lambda c: self._real_problem(c, contender)) if case.group == PARTIAL_CLONE else (lambda c: self._problem(case, c, contender))
        problems += [found for found in parallel(check, checkouts) if found]
        if problems:
            listed = "\n  ".join(problems[:10])
            raise RuntimeError(f"{case.label}: {len(problems)} checkouts are not in step after the run:\n  {listed}")

    def _problem(self, case: Case, checkout: Checkout, contender: str) -> str:
        """What is wrong with one checkout after a run: on main (``releases``: a link to a release, detached) at the
        upstream's commit, clean, or the reason."""
        releases = contender == "releases"
        path, branch = (checkout.link, "(detached)") if releases else (checkout.dest, "main")
        if not (path.is_symlink() if releases else (path / ".git").is_dir()):
            return f"{path}: not {'a link' if releases else 'a checkout'}"
        return _out_of_step(path, branch, self.upstreams[checkout.index].commit(self.main_at(case)))

    def _real_problem(self, checkout: Checkout, contender: str) -> str:
        """What is wrong with a checkout of node_exporter after a run, or ``""``. It must be on its branch at the
        bundle's commit and clean, git kept off the network (a partial clone that lacks an object its status needs
        fails, instead of git fetching it unseen); hold every file of the branch, only the cone's for
        ``partial_sparse``; and lack objects of the history if and only if its clone is partial (``FILTERED``), so
        that a server ignoring the filter cannot pass a full clone off as a partial one."""
        real, dest = self.node_exporter, checkout.dest
        if not (dest / ".git").is_dir():
            return f"{dest}: not a checkout"
        problem = _out_of_step(dest, real.branch, real.commit, offline=True)
        want, found = (real.cone(SPARSE_CONE) if contender == "partial_sparse" else real.files), work_tree_files(dest)
        if not problem and found != want:
            problem = f"{dest}: {len(found)} files, expected {len(want)}; extra {sorted(found - want)[:3]}, missing {sorted(want - found)[:3]}"
        objects = git("-C", dest, "rev-list", "--objects", "--missing=print", "--all", offline=True).splitlines()
        missing = sum(line.startswith("?") for line in objects)
        if not problem and (missing > 0) != (contender in FILTERED):
            problem = f"{dest}: {missing} objects of the history missing, expected {'some' if contender in FILTERED else 'none'}"
        return problem


def _out_of_step(path: Path, branch: str, want: str, *, offline: bool = False) -> str:
    """Why the checkout at ``path`` is not on ``branch`` at ``want`` with no local change, or ``""``."""
    lines = git("--no-optional-locks", "-C", path, "status", "--porcelain=v2", "--branch", offline=offline).splitlines()
    heads = [line for line in lines if line.startswith(("# branch.oid ", "# branch.head "))]
    changes = [line for line in lines if not line.startswith("#")]
    if heads != [f"# branch.oid {want}", f"# branch.head {branch}"] or changes:
        return f"{path}: {heads + changes[:3]}; expected {branch} at {want[:12]}, clean"
    return ""
