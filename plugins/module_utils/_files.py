# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private: file operations that stay safe when root works in folders other users can write.

A path is a string anyone with write access to one of its folders can change between two system calls: a
folder swapped for a symbolic link sends the next ``chown`` or ``open`` somewhere else. So every write,
``chmod``, ``chown``, rename and removal here goes through file descriptors: a path is walked from ``/`` one
name at a time with ``O_NOFOLLOW``, following only symbolic links that belong to root or to us (nobody else
can point those elsewhere); files are created with ``O_CREAT|O_EXCL|O_NOFOLLOW`` under a folder descriptor
and changed with ``fchmod``/``fchown`` on their own descriptor; removals never follow a link. The module side
(root on a host) and the controller side (pins, reports) share these, with the standard library only.
"""

from __future__ import annotations

import errno
import os
import pwd
import secrets
import stat

from ansible_collections.fleetops.gitops.plugins.module_utils._errors import DestinationError

_SEARCH = getattr(os, "O_PATH", os.O_RDONLY)  # enough to walk through a folder, even one we may not list
_NOFOLLOW_DIR = os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_LINKS = 40  # as the kernel's own limit on symbolic links in one path


class UnsafePath(DestinationError):
    """A path leads through something another user controls, or is not what it should be; nothing was done there."""


def trusted_uids() -> frozenset[int]:
    """Whose symbolic links and folders we follow: root's and our own."""
    return frozenset((0, os.geteuid()))


def open_folder(path: str, *, option: str = "dest", create: bool = False, owner: tuple[int, int] | None = None, readable: bool = False) -> int:
    """A descriptor of the folder at ``path``, reached without following any link another user could change.

    With ``create``, missing folders are made (as ``mkdir -p`` would, the umask deciding their mode), each
    handed to ``owner`` through its descriptor before the walk goes on through it. ``readable`` opens the final
    folder for listing, ``fsync`` and ``fchmod`` rather than only for walking through. The caller closes it.
    """
    fd = _walk(path, option, create, owner)
    if not readable:
        return fd
    try:
        return os.open(".", os.O_RDONLY | _NOFOLLOW_DIR, dir_fd=fd)
    finally:
        os.close(fd)


def open_parent(path: str, *, option: str = "dest") -> tuple[int, str]:
    """(descriptor of the folder holding ``path``, the last name of ``path``); the name itself is not looked at."""
    parent, name = os.path.split(os.path.normpath(path))
    if not name or name == "..":
        raise UnsafePath(option, f"{path} does not name an entry in a folder")
    return open_folder(parent, option=option), name


def resolve(path: str, *, option: str = "dest") -> str:
    """``os.path.realpath``, but refusing links other users own; the missing tail of ``path`` is kept as given."""
    parts = _parts(path, option)
    done: list[str] = []
    links = 0
    while parts:
        name = parts.pop(0)
        if name == "..":
            if done:
                done.pop()
            continue
        current = "/" + "/".join(done + [name])
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return "/" + "/".join(done + [name] + parts)
        if stat.S_ISLNK(info.st_mode):
            links += 1
            target = _trusted_link_target(current, info, option, links)
            if target.startswith("/"):
                done = []
            parts = _parts_of(target) + parts
            continue
        done.append(name)
    return "/" + "/".join(done)


def stat_entry(folder: int, name: str) -> os.stat_result | None:
    """lstat of ``name`` in ``folder``, or None when there is no such entry."""
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None


def open_child(folder: int, name: str, *, option: str = "dest", readable: bool = False, owner: int | None = None) -> int:
    """A descriptor of the folder ``name`` in ``folder``, refusing a link; ``owner`` says whose it must be."""
    try:
        fd = os.open(name, (os.O_RDONLY if readable else _SEARCH) | _NOFOLLOW_DIR, dir_fd=folder)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafePath(option, f"{name} is not a folder (a symbolic link or a file is in its place)") from None
        raise
    if owner is not None:
        info = os.fstat(fd)
        if info.st_uid != owner:
            os.close(fd)
            raise UnsafePath(option, f"{name} belongs to {_user(info.st_uid)}, expected {_user(owner)}")
    return fd


def write_atomic(folder: int, name: str, data: bytes, *, mode: int = 0o644, owner: tuple[int, int] | None = None, durable: bool = True) -> None:
    """Replace ``name`` in ``folder`` by a new file holding ``data``: readers see the old file or the new one.

    The new file is created under a random name with ``O_EXCL|O_NOFOLLOW``, so nothing that stands there
    is opened; its mode and owner are set on its own descriptor. With ``durable``, it is fsynced before the
    rename and the folder after it, so a crash leaves the old content or the new, never half of it.
    """
    temp = f".{name}.{secrets.token_hex(6)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=folder)
    try:
        try:
            os.fchmod(fd, mode)  # the umask does not decide
            if owner is not None:
                os.fchown(fd, *owner)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        remove_quietly(folder, temp)
        raise
    if durable:
        fsync_folder(folder)


def create_file(folder: int, name: str, data: bytes, *, mode: int = 0o600, owner: tuple[int, int] | None = None) -> None:
    """A new file ``name`` in ``folder``; fails if anything stands there already (``O_EXCL``)."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=folder)
    try:
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def make_folder(folder: int, name: str, *, mode: int | None = 0o700, owner: tuple[int, int] | None = None) -> int:
    """A new folder ``name`` in ``folder`` (``mkdirat``); returns its descriptor, with ``owner`` set through it.

    ``mode`` None leaves the mode to the umask, as ``mkdir`` does.
    """
    os.mkdir(name, 0o777 if mode is None else mode, dir_fd=folder)
    fd = open_child(folder, name, readable=True, owner=os.geteuid())  # ours, not one put there meanwhile
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(folder: int, name: str, limit: int = 1 << 20, *, owner: int | None = None, option: str = "dest") -> bytes | None:
    """The content of the regular file ``name`` in ``folder``; None when absent, a link, or larger than ``limit``.

    With ``owner``, a file that belongs to anyone else is refused (UnsafePath) rather than read.
    """
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        if owner is not None and info.st_uid != owner:
            raise UnsafePath(option, f"{name} belongs to {_user(info.st_uid)}, not to {_user(owner)}; it was not read")
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def remove_tree(folder: int, name: str) -> None:
    """Remove ``name`` from ``folder``: a file or link is unlinked, a folder emptied first; no link is followed."""
    info = stat_entry(folder, name)
    if info is None:
        return
    if not stat.S_ISDIR(info.st_mode):
        remove_quietly(folder, name)
        return
    try:
        child = open_child(folder, name, readable=True)
    except (UnsafePath, FileNotFoundError):
        remove_quietly(folder, name)  # replaced by a link or a file meanwhile: that entry, not what it points at
        return
    try:
        for entry in os.listdir(child):
            remove_tree(child, entry)
    finally:
        os.close(child)
    try:
        os.rmdir(name, dir_fd=folder)
    except FileNotFoundError:
        pass


def remove_quietly(folder: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        os.rmdir(name, dir_fd=folder)


def fsync_folder(folder: int) -> None:
    """fsync a folder descriptor (one opened only to walk through is reopened for it)."""
    fd = os.open(".", os.O_RDONLY | _NOFOLLOW_DIR, dir_fd=folder)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_folder(path: str, *, option: str, mode: int = 0o700) -> int:
    """A folder only we may use: made ``mode`` when absent; refused when it is a link, another user's, or open to others.

    Returns a readable descriptor. For lock and cache folders at names others could take first.
    """
    parent, name = open_parent(path, option=option)
    try:
        try:
            return make_folder(parent, name, mode=mode)
        except FileExistsError:
            pass
        fd = open_child(parent, name, option=option, readable=True)
    finally:
        os.close(parent)
    info = os.fstat(fd)
    problem = ""
    if info.st_uid != os.geteuid():
        problem = f"belongs to {_user(info.st_uid)}"
    elif stat.S_IMODE(info.st_mode) & 0o077:
        problem = f"is open to other users (mode {stat.S_IMODE(info.st_mode):04o})"
    if problem:
        os.close(fd)
        raise UnsafePath(
            option, f"{path} {problem}, not only to {_user(os.geteuid())}; it was not used. Remove it (someone may have made it to interfere) and run again"
        )
    return fd


def _walk(path: str, option: str, create: bool, owner: tuple[int, int] | None) -> int:
    parts = _parts(path, option)
    stack = [os.open("/", _SEARCH | os.O_DIRECTORY | os.O_CLOEXEC)]
    links = 0
    try:
        while parts:
            name = parts.pop(0)
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                continue
            here = stack[-1]
            info = stat_entry(here, name)
            if info is None and create:
                try:
                    os.close(make_folder(here, name, mode=None, owner=owner))
                except FileExistsError:
                    pass  # made meanwhile, by a parallel run
                parts.insert(0, name)  # and now through it
                continue
            if info is None:
                raise UnsafePath(option, f"{path} does not exist")
            if stat.S_ISLNK(info.st_mode):
                links += 1
                target = _trusted_link_target(name, info, option, links, folder=here, shown=path)
                if target.startswith("/"):
                    for fd in stack[1:]:
                        os.close(fd)
                    del stack[1:]
                parts = _parts_of(target) + parts
                continue
            if not stat.S_ISDIR(info.st_mode):
                raise UnsafePath(option, f"{path}: '{name}' is not a folder")
            fd = open_child(here, name, option=option)
            if (os.fstat(fd).st_ino, os.fstat(fd).st_dev) != (info.st_ino, info.st_dev):
                os.close(fd)
                raise UnsafePath(option, f"{path} changed while it was being opened")
            stack.append(fd)
        result = stack.pop()
        return result
    finally:
        for fd in stack:
            os.close(fd)


def _trusted_link_target(name: str, info: os.stat_result, option: str, links: int, *, folder: int | None = None, shown: str | None = None) -> str:
    """The target of a link that only root or we could have made; any other user's link is refused."""
    where = shown or name
    if links > _MAX_LINKS:
        raise UnsafePath(option, f"{where}: too many levels of symbolic links")
    if info.st_uid not in trusted_uids():
        raise UnsafePath(
            option,
            f"{where} goes through a symbolic link that belongs to {_user(info.st_uid)}; "
            "a link another user owns is never followed (point the option at the real path)",
        )
    target = os.readlink(name, dir_fd=folder) if folder is not None else os.readlink(name)
    again = os.stat(name, dir_fd=folder, follow_symlinks=False) if folder is not None else os.lstat(name)
    if (again.st_ino, again.st_dev) != (info.st_ino, info.st_dev):
        raise UnsafePath(option, f"{where} changed while it was being resolved")
    return target


def _parts(path: str, option: str) -> list[str]:
    if not os.path.isabs(path):
        raise UnsafePath(option, f"{path} is not an absolute path")
    return _parts_of(path)


def _parts_of(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
