# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Privilege separation: the owner of a checkout must not be able to make root act on files of its choosing.

With ``owner`` set, git runs as that user, but this code runs as root. Whatever root creates, writes, chmods,
chowns or renames by path inside a folder the owner can write - the checkout and its ``.git``, the parent of
``dest`` when the owner owns it, the private temp folders handed to the owner (which, once theirs, they may also
move out of the sticky temp folder) - is a race the owner can play: swap the path, or a folder on it, for a
symlink between root's steps, and root's next operation by path lands on whatever the symlink points at.

Each test plays that owner as a real attacker process: Python running as the owner's uid and gid with no other
groups, watching folders with inotify and replacing each new entry that matches a pattern with a symlink to a
victim (files renamed over, folders exchanged atomically with renameat2(RENAME_EXCHANGE)). The victim is a
root-owned file (0600, known content) or folder (0700, one file in it) inside a folder only root can enter, which
the owner could never touch by itself. The test runs the real code as root a bounded number of times while the
attacker plays, each run doing the write under attack, then asserts that the victim kept its owner, group,
mode and content (for a folder: the names in it). A run that fails because of the attacker's interference is
fine (a safe implementation may refuse), but no test can pass vacuously: each asserts that the attacker did swap
something - or, for the private temp folders, that root made folders there and handed none to the owner, so
that there was nothing to attack - and that at least one run completed (the attacker leaves every third
candidate alone, so that a safe implementation completes some runs even against a perfect attacker).

Where a window is a few microseconds (root's next step follows at once), syncs run four at a time in threads, as
the batch form runs its checkouts: a thread that releases the GIL for a system call waits for it afterwards,
which is what gives the attacker its time. Nothing is mocked. The code under test gets its own TMPDIR (sticky and
world-writable like /tmp), so that the attacker watches only this test's temp folders.

A safe implementation creates such files with O_EXCL|O_NOFOLLOW relative to directory descriptors opened without
following symlinks, and changes them through the descriptor (fchown, fchmod), or lets git, running as the owner,
create them; these tests depend on neither, only on the victim staying untouched.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ansible_collections.fleetops.gitops.plugins.module_utils._access import RemoteAccess
from ansible_collections.fleetops.gitops.plugins.module_utils._signatures import SignatureError, SignaturePolicy
from ansible_collections.fleetops.gitops.plugins.module_utils.checkout import GitOpsSynchronizer
from ansible_collections.fleetops.gitops.plugins.module_utils.drift import GitOpsSynchronizer as Drift
from ansible_collections.fleetops.gitops.tests.unit.helpers.git_fixtures import Upstream

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the attacks need root running the code and another user attacking"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the attacker uses Linux inotify and renameat2"),
    pytest.mark.skipif(sys.version_info < (3, 9), reason="starting the attacker as another user needs Popen(user=...)"),
]

PARALLEL = 4  # syncs at a time where a window is too small for one sync: the batch form runs up to 8
ATTACK_SECONDS = 20  # the attacker gives up by itself after this long, whatever happens to the test
SECRET = b"root's secret: never to be read, chowned, chmodded or overwritten for another user\n"

# The attacker: runs as the checkout's owner, with nothing but the standard library.
_ATTACKER = r'''
import ctypes, fnmatch, json, os, random, select, stat, struct, sys, time

cfg = json.loads(sys.argv[1])
VICTIM, CONTROL, SPARE = cfg["victim"], cfg["control"], cfg.get("spare_every", 0)
END = time.monotonic() + cfg["seconds"]
UID = os.getuid()
IN_ATTRIB, IN_MOVED_TO, IN_CREATE, IN_ISDIR = 0x4, 0x80, 0x100, 0x40000000
AT_FDCWD, RENAME_EXCHANGE = -100, 2
libc = ctypes.CDLL(None, use_errno=True)
counts = {"swaps": 0, "candidates": 0, "links": 0, "seen": 0}
ready_links = {}


def stopped():
    return time.monotonic() > END or os.path.exists(os.path.join(CONTROL, "stop"))


def publish(name, value):
    temp = os.path.join(CONTROL, "." + name)
    with open(temp, "w") as handle:
        handle.write(str(value))
    os.replace(temp, os.path.join(CONTROL, name))


def log(message):
    with open(os.path.join(CONTROL, "log"), "a") as handle:
        handle.write(message + "\n")


def exchange(a, b):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), b)


def new_link(parent):
    counts["links"] += 1
    path = os.path.join(parent, ".attacker-%d-%d%s" % (os.getpid(), counts["links"], cfg.get("link_suffix", "")))
    os.symlink(VICTIM, path)
    return path


def link_in(parent):
    """A symlink to the victim made beforehand in ``parent``, so that a swap is a single rename."""
    link = ready_links.pop(parent, None)
    return link if link is not None and os.path.islink(link) else new_link(parent)


def swapped():
    counts["swaps"] += 1
    publish("swaps", counts["swaps"])


def replace(path, is_dir):
    """Put a symlink to the victim where ``path`` is: a file is renamed over, a folder exchanged (RENAME_EXCHANGE)."""
    parent = os.path.dirname(path)
    try:
        link = link_in(parent)
    except OSError:
        return False
    try:
        if is_dir:
            exchange(link, path)
        else:
            os.rename(link, path)
    except OSError as error:
        if getattr(error, "errno", 0) not in (2, 20, 21, 39):
            log("swap of %s failed: %s" % (path, error))
        ready_links[parent] = link if os.path.islink(link) else None
        return False
    swapped()
    try:
        ready_links[parent] = new_link(parent)
    except OSError:
        pass
    return True


def plant(path):
    """Make ``path`` a symlink to the victim (over whatever is there) before root writes it."""
    try:
        os.rename(link_in(os.path.dirname(path)), path)
    except OSError:
        return False
    swapped()
    return True


def spared():
    """Leave every SPARE-th candidate alone, so that a safe implementation can still complete some syncs."""
    counts["candidates"] += 1
    return bool(SPARE) and counts["candidates"] % SPARE == 0


fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
watches = {}


def watch(path, rel, mask=IN_CREATE | IN_MOVED_TO):
    wd = libc.inotify_add_watch(fd, path.encode(), mask)
    if wd >= 0:
        watches[wd] = (path, rel)
    return wd >= 0


def events(timeout=0.05):
    if not select.select([fd], [], [], timeout)[0]:
        return []
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return []
    found, offset = [], 0
    while offset + 16 <= len(data):
        wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
        name = data[offset + 16:offset + 16 + length].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        offset += 16 + length
        found.append((wd, mask, name))
    return found


def matches(rule, rel, is_dir):
    kind = rule.get("kind", "any")
    if kind != "any" and (kind == "dir") != is_dir:
        return False
    return rel.count("/") == rule["glob"].count("/") and fnmatch.fnmatchcase(rel, rule["glob"])


def entries_mode():
    """Watch fixed folders; replace each new entry whose name matches."""
    for folder in cfg["dirs"]:
        watch(folder, "")
        ready_links[folder] = new_link(folder)
    publish("ready", 1)
    while not stopped():
        for wd, mask, name in events():
            folder = watches.get(wd, (None,))[0]
            if folder is None or name.startswith(".attacker-") or name in cfg.get("exclude", ()):
                continue
            if not fnmatch.fnmatchcase(name, cfg["glob"]):
                continue
            path = os.path.join(folder, name)
            if mask & IN_MOVED_TO and os.path.islink(path):
                continue  # our own swap (or another symlink): nothing of root's to replace
            if not spared():
                replace(path, bool(mask & IN_ISDIR))


def private_mode():
    """Watch the temp folder (the code under test's own) for folders handed to us; attack what appears inside them,
    or the folder itself, as the rules say."""
    tmp = cfg["tmp"]
    watch(tmp, None, IN_CREATE | IN_MOVED_TO | IN_ATTRIB)
    ready_links[tmp] = new_link(tmp)
    known = set()
    publish("ready", 1)

    entered = set()

    def enter(path, rel):
        if path in entered or not watch(path, rel):
            return
        entered.add(path)
        try:
            ready_links[path] = new_link(path)
        except OSError:
            pass
        for rule in cfg["rules"]:
            if rule["action"] == "plant" and matches(rule, rel, True):
                plant(os.path.join(path, rule["name"]))
        try:
            names = os.listdir(path)
        except OSError:
            return
        for name in names:
            arrived(os.path.join(path, name), name if rel == "." else rel + "/" + name)

    def arrived(path, rel, is_dir=None):
        """Something appeared at ``path``; ``is_dir`` from an IN_CREATE event, else looked up."""
        if os.path.basename(path).startswith(".attacker-"):
            return
        if is_dir is None:
            try:
                info = os.lstat(path)
            except OSError:
                return
            if stat.S_ISLNK(info.st_mode):
                return  # our own swap, or a symlink already
            is_dir = stat.S_ISDIR(info.st_mode)
        for rule in cfg["rules"]:
            if rule["action"] == "replace" and matches(rule, rel, is_dir):
                replace(path, is_dir)
                return
        if is_dir:
            enter(path, rel)

    while not stopped():
        for wd, mask, name in events():
            where = watches.get(wd)
            if where is None:
                continue
            folder, rel = where
            path = os.path.join(folder, name)
            if rel is not None:
                created = bool(mask & IN_CREATE)
                arrived(path, name if rel == "." else rel + "/" + name, bool(mask & IN_ISDIR) if created else None)
                continue
            # the temp folder itself: a folder made (whatever its name), or handed over (chown: IN_ATTRIB)
            if path in known or name.startswith(".attacker-"):
                continue
            if mask & (IN_CREATE | IN_MOVED_TO) and mask & IN_ISDIR:
                counts["seen"] += 1
            try:
                info = os.lstat(path)
                until = time.monotonic() + 0.001
                while info.st_uid != UID and time.monotonic() < until:  # root hands it over right after making it
                    info = os.lstat(path)
            except OSError:
                continue
            if info.st_uid == UID and stat.S_ISDIR(info.st_mode):
                known.add(path)
                if spared():
                    pass
                elif any(rule["action"] == "replace" and rule["glob"] == "." for rule in cfg["rules"]):
                    replace(path, True)  # ours now, so the sticky bit lets us move it: the whole folder is swapped
                else:
                    enter(path, ".")
            publish("seen", counts["seen"])
            publish("given", len(known))


def toggle_mode():
    """Exchange a folder for a symlink to the victim and back: each time git has just renamed the file named
    ``trigger`` in ``trigger_dir`` (git is done, root takes over again), and at random moments when that stays quiet."""
    path, link = cfg["path"], new_link(os.path.dirname(cfg["path"]))
    watch(cfg["trigger_dir"], "")
    slo, shi = cfg["swapped_ms"]
    quiet_since = time.monotonic()
    publish("ready", 1)
    while not stopped():
        triggered = any(fnmatch.fnmatchcase(name, cfg["trigger"]) for _wd, _mask, name in events(0.05))
        if not triggered and time.monotonic() - quiet_since < cfg["quiet_s"]:
            continue
        quiet_since = time.monotonic()
        if spared():
            continue
        try:
            exchange(link, path)
        except OSError as error:
            log("toggle failed: %s" % error)
            continue
        swapped()
        time.sleep(random.uniform(slo, shi) / 1000)
        try:
            exchange(link, path)  # and back: the next sync finds its checkout again
        except OSError as error:
            log("swapping back failed: %s" % error)


{"entries": entries_mode, "private": private_mode, "toggle": toggle_mode}[cfg["mode"]]()
'''


@functools.lru_cache(maxsize=None)
def _python_for(uid: int, gid: int) -> str:
    """A Python the owner can run: ours unless it lives in a folder closed to them (root's home)."""
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3") or ""):
        try:
            if (
                candidate
                and subprocess.run(
                    [candidate, "-c", "pass"], user=uid, group=gid, extra_groups=[], cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
                ).returncode
                == 0
            ):
                return candidate
        except OSError:
            continue
    pytest.skip("no Python that the owner can run")
    return ""


class Attacker:
    """The attacker process, as the owner; ``swaps()`` says how often it put a symlink in place."""

    def __init__(self, user: str, base: Path, config: t.Mapping[str, t.Any]) -> None:
        self.entry = pwd.getpwnam(user)
        self.control = Path(tempfile.mkdtemp(prefix="control-", dir=base))
        os.chown(self.control, self.entry.pw_uid, self.entry.pw_gid)
        self.config = dict(config, control=str(self.control), seconds=ATTACK_SECONDS)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Attacker:
        uid, gid = self.entry.pw_uid, self.entry.pw_gid
        python = _python_for(uid, gid)
        with (self.control / "stderr").open("wb") as stderr:
            self.proc = subprocess.Popen(  # noqa: S603 - argv list  # pylint: disable=consider-using-with  # ended in __exit__
                [python, "-c", _ATTACKER, json.dumps(self.config)],
                user=uid,
                group=gid,
                extra_groups=[],
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            end = time.monotonic() + 10
            while not (self.control / "ready").exists():
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise AssertionError(f"the attacker did not start: {self.report()}")
                time.sleep(0.01)
        except BaseException:
            self.__exit__()
            raise
        return self

    def count(self, name: str) -> int:
        """What the attacker published: ``swaps`` made; in the temp folder, private folders ``seen`` and ``given`` to it."""
        try:
            return int((self.control / name).read_text() or 0)
        except (OSError, ValueError):
            return 0

    def swaps(self) -> int:
        return self.count("swaps")

    def found_nothing_to_attack(self) -> bool:
        """Private folders were made in the temp folder it watches, yet none was handed to the owner: root wrote
        nothing anywhere the owner could reach, so there was nothing to swap (a safe design, not a vacuous test)."""
        return self.config["mode"] == "private" and self.count("seen") > 0 and self.count("given") == 0

    def report(self) -> str:
        texts = []
        for name in ("stderr", "log"):
            try:
                texts.append((self.control / name).read_text()[-2000:])
            except OSError:
                pass
        return " | ".join(text for text in texts if text) or "(nothing logged)"

    def __exit__(self, *exc_info: object) -> None:
        """Tell it to stop, and kill it if it does not within 5s: it never outlives the test."""
        (self.control / "stop").write_text("")
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- victims -----------------------------------------------------------------------------------------------------


def _look(path: Path) -> tuple[t.Any, ...]:
    """Owner, group, mode and content (a folder: the names in it) of the victim, read as root without following it."""
    info = os.lstat(path)
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "symlink" if stat.S_ISLNK(info.st_mode) else "file"
    content = sorted(os.listdir(path)) if kind == "folder" else os.readlink(path) if kind == "symlink" else path.read_bytes()
    return info.st_uid, info.st_gid, oct(stat.S_IMODE(info.st_mode)), kind, content


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A folder only root can enter (pytest's tmp_path is root's too, but say so explicitly)."""
    path = tmp_path / "vault"
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


@pytest.fixture
def victim_file(vault: Path) -> Path:
    path = vault / "secret"
    path.write_bytes(SECRET)
    path.chmod(0o600)
    return path


@pytest.fixture
def victim_dir(vault: Path) -> Path:
    path = vault / "private"
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    (path / "keep").write_bytes(SECRET)
    (path / "keep").chmod(0o600)
    return path


# -- the stage: an upstream and folders the owner can reach --------------------------------------------------------


@pytest.fixture
def owner(other_user: str) -> pwd.struct_passwd:
    return pwd.getpwnam(other_user)


@pytest.fixture
def base() -> t.Iterator[Path]:
    """A folder anyone can enter (pytest's are 0700 under root's), removed afterwards with all the symlinks in it."""
    path = Path(tempfile.mkdtemp(prefix="gitops-privilege-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def owned_upstream(base: Path, owner: pwd.struct_passwd, monkeypatch: pytest.MonkeyPatch) -> Upstream:
    """An upstream the owner's git reads over file://: it belongs to the owner (git refuses another user's repository),
    and the tests' own git, as root, is told it is safe (the code under test never inherits GIT_CONFIG_PARAMETERS)."""
    upstream = Upstream(base / "upstream")
    _chown_tree(upstream.path, owner)
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'safe.directory'='*'")
    return upstream


@pytest.fixture
def owned_tmp(tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR for the code under test: a sticky, world-writable folder like /tmp, watched only by this test's attacker
    (after pytest has made tmp_path, which stays in the real temp folder)."""
    path = base / "tmp"
    path.mkdir()
    path.chmod(0o1777)
    monkeypatch.setenv("TMPDIR", str(path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile caches the folder it found first
    assert tempfile.gettempdir() == str(path)
    return path


def _chown_tree(path: Path, owner: pwd.struct_passwd) -> None:
    os.chown(path, owner.pw_uid, owner.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), owner.pw_uid, owner.pw_gid)


def _owned_dir(path: Path, owner: pwd.struct_passwd) -> Path:
    path.mkdir()
    os.chown(path, owner.pw_uid, owner.pw_gid)
    return path


def _in_parallel(call: t.Callable[[t.Any], t.Any], items: t.Sequence[t.Any]) -> list[t.Any]:
    """``call`` for each item in threads, as the batch form runs its checkouts: the results of those that returned
    (the others failed, as the attacker's interference may make them); the first error when none returned."""
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        futures = [pool.submit(call, item) for item in items]
    errors = [future.exception() for future in futures if future.exception() is not None]
    results = [future.result() for future in futures if future.exception() is None]
    if errors and not results:
        raise errors[0]
    return results


def _under_attack(victim: Path, attacker: Attacker, attempt: t.Callable[[int], int], rounds: int, seconds: float = 10.0) -> None:
    """Run ``attempt`` up to ``rounds`` times (within ``seconds``) while the attacker plays; then judge.

    ``attempt(n)`` returns how many runs did their job; an exception it raises is the attacker's interference,
    counted but not fatal. The loop ends early once the victim has changed: the test has failed by then.
    """
    before = _look(victim)
    completed, errors = 0, []
    end = time.monotonic() + seconds
    for number in range(rounds):
        try:
            completed += int(attempt(number))
        except Exception as error:  # pylint: disable=broad-exception-caught  # a safe refusal is any error
            errors.append(f"{type(error).__name__}: {error}"[:300])
        if _look(victim) != before or time.monotonic() > end:
            break
    after = _look(victim)
    print(
        f"rounds={number + 1} completed={completed} swaps={attacker.swaps()} seen={attacker.count('seen')} "
        f"given={attacker.count('given')} errors={len(errors)} {errors[:2]}"
    )
    assert after == before, f"root changed the victim {victim} for the attacker after {number + 1} runs (uid, gid, mode, type, content): {before} -> {after}"
    assert attacker.swaps() > 0 or attacker.found_nothing_to_attack(), f"the attacker never swapped anything, so this proves nothing: {attacker.report()}"
    assert completed > 0, f"no run completed under attack ({len(errors)} errors, e.g. {errors[:3]}): {attacker.report()}"


# -- 1. the state file ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["temp_file", "git_dir"])
def test_the_state_file_is_never_written_through_a_symlink(owned_upstream, base, other_user, target, request):
    """Root writes .git/fleetops-gitops.json through a temp file in the owner's .git, then chmods, chowns and renames
    it by path. temp_file: the attacker renames a symlink to a victim file over each new temp file as soon as it
    appears. git_dir: each time git has finished the checkout (renamed .git/HEAD into place), the attacker exchanges
    .git itself for a symlink to a root-only folder for a moment, so that the record would be made in there."""
    dest = base / "app"
    sync = GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user)
    sync.run("main")
    if target == "temp_file":
        victim = request.getfixturevalue("victim_file")
        config = {"mode": "entries", "victim": str(victim), "dirs": [str(dest / ".git")], "glob": "*fleetops-gitops*", "exclude": ["fleetops-gitops.json"]}
    else:
        victim = request.getfixturevalue("victim_dir")
        config = {
            "mode": "toggle",
            "victim": str(victim),
            "path": str(dest / ".git"),
            "trigger_dir": str(dest / ".git"),
            "trigger": "HEAD",
            "quiet_s": 1.0,
            "swapped_ms": [5, 30],
            "spare_every": 3,
            "link_suffix": ".log",
        }  # the upstream ignores *.log: the swapped-out .git is no untracked file

    def attempt(_number: int) -> bool:
        owned_upstream.commit()
        return sync.run("main").changed

    with Attacker(other_user, base, config) as attacker:
        _under_attack(victim, attacker, attempt, rounds=40)


# -- 2. the clone folder beside dest -------------------------------------------------------------------------------


def test_the_clone_folder_beside_dest_is_never_chowned_through_a_symlink(owned_upstream, base, owner, other_user, victim_dir):
    """When the owner owns dest's parent, root makes the clone folder .{name}.gitops-clone-* there and chowns it by
    path: the attacker exchanges each new folder there for a symlink to a root-only folder the moment it appears."""
    parent = _owned_dir(base / "srv", owner)
    config = {"mode": "entries", "victim": str(victim_dir), "dirs": [str(parent)], "glob": ".app-*", "spare_every": 3}

    def attempt(number: int) -> bool:
        dest = parent / f"app-{number}"
        done = GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user).run("main").changed
        return done and (dest / ".git").is_dir() and not dest.is_symlink()

    with Attacker(other_user, base, config) as attacker:
        _under_attack(victim_dir, attacker, attempt, rounds=150)


# -- 3. mode -------------------------------------------------------------------------------------------------------


def test_mode_is_never_applied_through_a_symlink_at_dest(owned_upstream, base, owner, other_user, victim_dir):
    """With mode set, root chmods dest by path after each update; the owner owns dest's parent, so the attacker
    exchanges the checkout for a symlink to a root-only folder and back again and again: each time git has finished
    the checkout (renamed .git/HEAD into place), when root is about to apply the mode (else at random moments)."""
    parent = _owned_dir(base / "srv", owner)
    dest = parent / "app"
    sync = GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user, mode=0o750)
    sync.run("main")
    config = {
        "mode": "toggle",
        "victim": str(victim_dir),
        "path": str(dest),
        "trigger_dir": str(dest / ".git"),
        "trigger": "HEAD",
        "quiet_s": 1.0,
        "swapped_ms": [5, 30],
        "spare_every": 3,
    }

    def attempt(_number: int) -> bool:
        owned_upstream.commit()
        return sync.run("main").changed

    with Attacker(other_user, base, config) as attacker:
        _under_attack(victim_dir, attacker, attempt, rounds=150)


# -- 4. the private temp folder --------------------------------------------------------------------------------------

_FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key: git over file:// never starts ssh\n-----END OPENSSH PRIVATE KEY-----\n"
_HOST_LINE = "[git.example.invalid]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDrQB3r3pUcUrKWyB4VduZEe8v0oAoLrCBiz2yfEldcd"
_ACCESS = {
    "known_hosts": lambda: RemoteAccess.from_params({"known_hosts": _HOST_LINE}),
    "askpass": lambda: RemoteAccess.from_params({"username": "deploy", "password": "not-used-by-file-urls"}),
    "ssh_key": lambda: RemoteAccess.from_params({"ssh_key": _FAKE_KEY}),
}


@pytest.mark.parametrize("access", sorted(_ACCESS))
def test_files_in_the_private_temp_folder_are_never_chowned_through_a_symlink(owned_upstream, base, owned_tmp, other_user, victim_file, access):
    """Root makes a private temp folder, hands it to the owner at once, then writes the askpass program, the SSH key
    or known_hosts into it and chowns each file by path: the attacker watches the temp folder for new private folders
    it was given and renames a symlink to the victim over every file as soon as it appears in one. The syncs run
    four at a time in threads, as the batch form runs them, which is what gives the attacker time between the steps."""
    syncs = [GitOpsSynchronizer(owned_upstream.url, str(base / f"app{n}"), owner=other_user, access=_ACCESS[access]()) for n in range(PARALLEL)]
    for sync in syncs:
        sync.run("main")
    head = owned_upstream.head()
    config = {
        "mode": "private",
        "victim": str(victim_file),
        "tmp": str(owned_tmp),
        "rules": [{"glob": "*", "kind": "file", "action": "replace"}],
        "spare_every": 3,
    }

    def attempt(_number: int) -> int:  # no-op syncs: cheap, and they write the files all the same
        return sum(result.plan.after == head for result in _in_parallel(lambda sync: sync.run("main"), syncs))

    with Attacker(other_user, base, config) as attacker:
        _under_attack(victim_file, attacker, attempt, rounds=100)


# -- 5. the drift peek ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["alternates", "info_dir"])
def test_the_peek_never_writes_alternates_through_a_symlink(owned_upstream, base, owned_tmp, other_user, target, request):
    """Drift against the remote, for a checkout behind it, fetches into a throwaway peek.git in a private temp folder
    the owner was given, and root writes peek.git/objects/info/alternates there by path. alternates: the attacker
    plants a symlink to a victim file at that name as soon as git has made objects/info. info_dir: it exchanges
    objects/info itself for a symlink to a root-only folder, so that the file would be made in there."""
    dest = base / "app"
    GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user).run("main")
    owned_upstream.commit()
    drift = Drift(str(dest), "main", compare_to="remote", owner=other_user)
    if target == "alternates":
        victim = request.getfixturevalue("victim_file")
        rules = [{"glob": glob, "kind": "dir", "action": "plant", "name": "alternates"} for glob in ("*/objects/info", "objects/info")]
    else:
        victim = request.getfixturevalue("victim_dir")
        rules = [{"glob": glob, "kind": "dir", "action": "replace"} for glob in ("*/objects/info", "objects/info")]
    config = {"mode": "private", "victim": str(victim), "tmp": str(owned_tmp), "rules": rules, "spare_every": 3}

    def attempt(_number: int) -> bool:
        return "1 commit behind" in " ".join(drift.sync_state().drift_details)

    with Attacker(other_user, base, config) as attacker:
        _under_attack(victim, attacker, attempt, rounds=60)


# -- 6. signatures -------------------------------------------------------------------------------------------------


def test_a_gpg_signed_commit_verifies_with_an_owner(owned_upstream, base, other_user, gpg_identity):
    """The keyring is made for the user git runs as, and gpg runs as them: once root made it, git as the owner then
    found no key in it ("unknown key") where the same sync as root passed."""
    if shutil.which("gpg") is None:
        pytest.skip("needs gpg")
    gpg_identity.sign_commit(owned_upstream.path)
    signed = owned_upstream.head()
    policy = SignaturePolicy("commit", (gpg_identity.public,))
    dest = base / "app"
    assert GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user, signatures=policy).run("main").plan.after == signed
    assert dest.stat().st_uid == pwd.getpwnam(other_user).pw_uid
    owned_upstream.commit()  # unsigned: refused as the owner too, so the key was really checked
    with pytest.raises(SignatureError, match="is not signed"):
        GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user, signatures=policy).run("main")


@pytest.mark.parametrize("target", ["allowed_signers", "gnupg"])
def test_signature_keys_are_never_written_through_a_symlink(owned_upstream, base, owned_tmp, other_user, tmp_path, gpg_identity, target, request):
    """To verify signatures root makes a GNUPGHOME (and runs gpg in it to import the keys) and writes allowed_signers
    in a private temp folder the owner was given: the attacker plants a symlink to a victim file at allowed_signers,
    or exchanges the gnupg folder for a symlink to a root-only folder, as soon as it can."""
    if shutil.which("gpg") is None:
        pytest.skip("needs gpg")
    victim = request.getfixturevalue("victim_file" if target == "allowed_signers" else "victim_dir")
    key = tmp_path / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    trusted = f"signer@example.invalid {key.with_suffix('.pub').read_text()}"
    policy = SignaturePolicy("commit", (gpg_identity.public,), allowed_signers=trusted)  # an SSH signature counts
    owned_upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "signed")
    dest = base / "app"
    sync = GitOpsSynchronizer(owned_upstream.url, str(dest), owner=other_user, signatures=policy)
    sync.run("main")
    rule = (
        {"glob": ".", "kind": "dir", "action": "plant", "name": "allowed_signers"}
        if target == "allowed_signers"
        else {"glob": "gnupg", "kind": "dir", "action": "replace"}
    )
    config = {"mode": "private", "victim": str(victim), "tmp": str(owned_tmp), "rules": [rule], "spare_every": 3}

    def attempt(_number: int) -> bool:
        owned_upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "signed")
        return sync.run("main").changed

    try:
        with Attacker(other_user, base, config) as attacker:
            _under_attack(victim, attacker, attempt, rounds=60)
    finally:
        if victim.is_dir() and (victim / "S.gpg-agent").exists():  # root's gpg started an agent in there: stop it
            subprocess.run(["gpgconf", "--homedir", str(victim), "--kill", "all"], check=False)


# -- 7. the private temp folder itself -------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["access_files", "signatures"])
def test_the_private_temp_folder_itself_is_never_written_through_a_symlink(owned_upstream, base, owned_tmp, other_user, victim_dir, tmp_path, user):
    """A private temp folder handed to the owner is the owner's to move, sticky temp folder or not: the attacker
    exchanges each one, the moment it is handed over, for a symlink to a root-only folder, so that the askpass or
    known_hosts file (access_files) or the GNUPGHOME and allowed_signers (signatures) root makes next by path
    would land in there. The syncs run four at a time in threads, as the batch form runs them."""
    if user == "access_files":
        access, policy, signing = RemoteAccess.from_params({"username": "deploy", "password": "unused", "known_hosts": _HOST_LINE}), SignaturePolicy(), []
    else:
        key = tmp_path / "signing"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
        access = RemoteAccess()
        policy = SignaturePolicy("commit", (), allowed_signers=f"signer@example.invalid {key.with_suffix('.pub').read_text()}")
        owned_upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "signed")
    syncs = [GitOpsSynchronizer(owned_upstream.url, str(base / f"app{n}"), owner=other_user, access=access, signatures=policy) for n in range(PARALLEL)]
    for sync in syncs:
        sync.run("main")
    config = {
        "mode": "private",
        "victim": str(victim_dir),
        "tmp": str(owned_tmp),
        "rules": [{"glob": ".", "kind": "dir", "action": "replace"}],
        "spare_every": 3,
    }

    def attempt(_number: int) -> int:
        if signing:  # something new to verify; the access files are written by any sync, a no-op one too
            owned_upstream.git(*signing, "commit", "--quiet", "--allow-empty", "-S", "-m", "signed")
        return len(_in_parallel(lambda sync: sync.run("main"), syncs))

    with Attacker(other_user, base, config) as attacker:
        _under_attack(victim_dir, attacker, attempt, rounds=60)
