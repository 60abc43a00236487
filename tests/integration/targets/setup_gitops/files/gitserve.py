# Copyright (c) fleetops.gitops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real git servers on 127.0.0.1 for the tests: git daemon, smart HTTP(S) with basic auth, a black hole.

The unit tests import it (``GitServers``); integration targets run it:

    python gitserve.py --root DIR --state FILE [--auth USER:PASSWORD] [--other-auth USER:PASSWORD]

which writes the servers' URLs as JSON to FILE and serves until SIGTERM.
Smart HTTP is ``git http-backend`` behind a small CGI bridge, over TLS with a
certificate made on the spot (its path is in the state file, for GIT_SSL_CAINFO).
Both serve partial clones (``uploadpack.allowFilter``), as the hosting services do.

A second HTTPS server, "the other origin" (same address, another port: another
origin for credentials), serves the same repositories with its own basic auth
and records every Authorization header it is sent. The main HTTPS server
redirects, before asking for credentials, as a moved repository would:

    /redirect-to-other/<path>   301 to the same <path> (and query) on the other origin
    /redirect-same/<path>       301 to /<path> on the main server itself
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_SERVER_CONFIG = ("-c", "uploadpack.allowFilter=true")  # read by the upload-pack each server starts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class _BackendHandler(BaseHTTPRequestHandler):
    """Hands each request to ``git http-backend`` as CGI."""

    server: _HttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base class's name
        self.server.requests.append(self.requestline)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._backend()

    def do_POST(self) -> None:  # noqa: N802
        self._backend()

    def _authorized(self) -> bool:
        if self.server.auth is None:
            return True
        given = self.headers.get("Authorization")
        return any(given == "Basic " + base64.b64encode(account.encode()).decode() for account in (self.server.auth, *self.server.accounts))

    def _redirect(self) -> bool:
        """Answer the redirect routes (301, with the query string kept); False for every other path."""
        for prefix, base in (("/redirect-to-other/", self.server.other_url), ("/redirect-same/", "")):
            if self.path.startswith(prefix) and base is not None:
                self.send_response(301)
                self.send_header("Location", f"{base}/{self.path[len(prefix) :]}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True
        return False

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _backend(self) -> None:
        body = self._body() if self.command == "POST" else b""
        if self.headers.get("Authorization") is not None:
            self.server.authorizations.append(self.headers["Authorization"])
        if self.server.faults:
            self._fail(self.server.faults.pop(0))
            return
        if self._redirect():
            return
        if not self._authorized():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _sep, query = self.path.partition("?")
        env = dict(
            os.environ,
            GIT_PROJECT_ROOT=self.server.root,
            GIT_HTTP_EXPORT_ALL="1",
            REQUEST_METHOD=self.command,
            PATH_INFO=path,
            QUERY_STRING=query,
            CONTENT_TYPE=self.headers.get("Content-Type", ""),
            CONTENT_LENGTH=str(len(body)),
            REMOTE_ADDR="127.0.0.1",
            REMOTE_USER="tester",
        )
        for header, variable in (("Git-Protocol", "GIT_PROTOCOL"), ("Content-Encoding", "HTTP_CONTENT_ENCODING")):
            if self.headers.get(header):
                env[variable] = self.headers[header]
        out = subprocess.run(["git", *_SERVER_CONFIG, "http-backend"], input=body, env=env, stdout=subprocess.PIPE, check=False).stdout
        head, _sep, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _colon, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        start = 0
        while start < len(payload):  # a slow link: about a tenth of the rate every 0.1 s, as long as it is throttled
            rate = self.server.bytes_per_second
            chunk = max(1, rate // 10) if rate else len(payload) - start
            self.wfile.write(payload[start : start + chunk])
            self.wfile.flush()
            start += chunk
            if rate and start < len(payload):
                time.sleep(0.1)

    def _fail(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: str, auth: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _BackendHandler)
        self.root = root
        self.auth = auth
        self.requests: list[str] = []
        self.faults: list[int] = []  # HTTP statuses to answer the next requests with, one each
        self.bytes_per_second = 0  # 0: full speed
        self.accounts: list[str] = []  # USER:PASSWORD accepted besides ``auth`` (see GitServers.add_account)
        self.authorizations: list[str] = []  # every Authorization header received, in order
        self.other_url: str | None = None  # where /redirect-to-other/ points; None: no such route


class _BlackHole(threading.Thread):
    """Accepts connections and never answers: a remote that hangs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


class SshServer:
    """sshd on 127.0.0.1 (one port per name), with host and client keys made for this run; git works over it."""

    def __init__(self, directory: str, names: t.Sequence[str] = ("ssh",)) -> None:
        os.makedirs(directory, mode=0o700)
        self.directory = directory
        self.key = os.path.join(directory, "id_ed25519")
        host_key = os.path.join(directory, "host_ed25519")
        for path in (self.key, host_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
        with open(self.key + ".pub", encoding="utf-8") as handle:
            self.public_key = handle.read()
        with open(os.path.join(directory, "authorized_keys"), "w", encoding="utf-8") as handle:
            handle.write(self.public_key)
        self.ports = {name: free_port() for name in names}
        with open(host_key + ".pub", encoding="utf-8") as handle:
            host_public = " ".join(handle.read().split()[:2])
        self.known_hosts = "".join(f"[127.0.0.1]:{port} {host_public}\n" for port in self.ports.values())
        config = self.config = os.path.join(directory, "sshd_config")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("".join(f"ListenAddress 127.0.0.1:{port}\n" for port in self.ports.values()))
            handle.write(
                f"HostKey {host_key}\nPidFile {directory}/sshd.pid\nAuthorizedKeysFile {directory}/authorized_keys\n"
                "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nAcceptEnv GIT_PROTOCOL\n"  # git protocol v2 over ssh
            )
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        self.process = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", config], stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent
        )
        for port in self.ports.values():
            wait_for_port(port)

    @property
    def port(self) -> int:
        return next(iter(self.ports.values()))

    def url(self, path: str) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(10)
        for pid in _pids_running(self.config):  # a connection's sshd calls setsid(): out of the group killed above
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self) -> SshServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: a forked child must not dlopen


def _die_with_parent() -> None:
    """In a server's child before exec: SIGTERM it when the process that started it dies, teardown or not."""
    _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _pids_running(argument: str) -> list[int]:
    """Processes with ``argument`` in their command line (sshd keeps the listener's in its children's title)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if entry.isdigit() and argument.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def make_certificate(directory: str) -> tuple[str, str]:
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return cert, key


def decode_basic(header: str | None) -> str | None:
    """``USER:PASSWORD`` from an ``Authorization: Basic ...`` value; None for another scheme or a malformed value."""
    scheme, _space, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode("utf-8", errors="replace")
    except ValueError:
        return None


def _serve_tls(server: _HttpServer, cert: str, key: str) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"https://127.0.0.1:{server.server_address[1]}"


class GitServers:
    """git daemon, HTTPS smart HTTP (basic auth when ``auth`` is given) and a black hole, all on 127.0.0.1.

    Also a second HTTPS server on another port, the other origin (``other_https_url``): the same repositories, basic
    auth ``other_auth`` (by default the same as ``auth``, so a client that hands it the credentials succeeds), and a
    record of every Authorization header it receives (``other_authorizations``). The main HTTPS server answers
    ``/redirect-to-other/<path>`` and ``/redirect-same/<path>`` with a 301 (see ``redirect_to_other_url``).
    """

    def __init__(self, root: str, auth: str | None = None, other_auth: str | None = None) -> None:
        self.root = os.path.realpath(root)
        self.auth = auth
        self.other_auth = auth if other_auth is None else other_auth
        self._certs = tempfile.mkdtemp(prefix="gitserve-tls-")
        self.ca_file, key = make_certificate(self._certs)
        port = free_port()
        self._daemon = subprocess.Popen(
            ["git", *_SERVER_CONFIG, "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={port}", f"--base-path={self.root}", self.root],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        wait_for_port(port)
        self.git_url = f"git://127.0.0.1:{port}"
        self._other = _HttpServer(self.root, self.other_auth)
        self.other_https_url = _serve_tls(self._other, self.ca_file, key)
        self._http = _HttpServer(self.root, auth)
        self._http.other_url = self.other_https_url
        self.https_url = _serve_tls(self._http, self.ca_file, key)
        self._hole = _BlackHole()
        self._hole.start()
        self.blackhole_url = f"git://127.0.0.1:{self._hole.port}"

    @property
    def http_requests(self) -> list[str]:
        return self._http.requests

    @property
    def https_authorizations(self) -> list[str]:
        """Every Authorization header value the main HTTPS server received, in order (a live list)."""
        return self._http.authorizations

    @property
    def other_requests(self) -> list[str]:
        """The request lines the other origin received, in order (a live list)."""
        return self._other.requests

    @property
    def other_authorizations(self) -> list[str]:
        """Every Authorization header value the other origin received, in order (a live list; clear it at will)."""
        return self._other.authorizations

    def other_credentials(self) -> list[str | None]:
        """``other_authorizations`` decoded: ``USER:PASSWORD`` for each Basic header, None for any other."""
        return [decode_basic(header) for header in self._other.authorizations]

    def redirect_to_other_url(self, path: str) -> str:
        """The main server's URL that answers 301 to ``path`` on the other origin (``path``: as under the root)."""
        return f"{self.https_url}/redirect-to-other/{path.lstrip('/')}"

    def redirect_same_url(self, path: str) -> str:
        """The main server's URL that answers 301 to ``path`` on the main server itself."""
        return f"{self.https_url}/redirect-same/{path.lstrip('/')}"

    def add_account(self, user: str, password: str, *, other: bool = True, main: bool = True) -> None:
        """Also accept ``user``/``password`` (besides ``auth``/``other_auth``), on the main server and/or the other origin.

        Added accounts stay until ``remove_accounts()``; the existing ones never change.
        """
        for server, wanted in ((self._http, main), (self._other, other)):
            if wanted:
                server.accounts.append(f"{user}:{password}")

    def remove_accounts(self) -> None:
        """Forget every account ``add_account`` added."""
        self._http.accounts.clear()
        self._other.accounts.clear()

    def fail_next(self, *statuses: int) -> None:
        """Answer the next HTTPS requests with these statuses (503: a transient fault, 404: a permanent one)."""
        self._http.faults.extend(statuses)

    def reset_faults(self) -> None:
        """Back to a well-behaved server: no pending faults, full speed."""
        self._http.faults.clear()
        self._http.bytes_per_second = 0

    def throttle(self, bytes_per_second: int) -> None:
        """Send HTTPS answers at about this rate (0: full speed), to stretch a clone or fetch; an answer under way
        follows a new rate at once (``reset_faults`` lets a held-back transfer finish)."""
        self._http.bytes_per_second = bytes_per_second

    def describe(self) -> dict[str, str]:
        return {
            "git": self.git_url,
            "https": self.https_url,
            "blackhole": self.blackhole_url,
            "ca_file": self.ca_file,
            "root": self.root,
            "pid": str(os.getpid()),
            "other_https": self.other_https_url,
            "redirect_to_other": f"{self.https_url}/redirect-to-other",
            "redirect_same": f"{self.https_url}/redirect-same",
        }

    def close(self) -> None:
        os.killpg(self._daemon.pid, signal.SIGTERM)  # git daemon forks git-daemon: stop the whole group
        self._daemon.wait(10)
        self._http.shutdown()
        self._http.server_close()
        self._other.shutdown()
        self._other.server_close()
        self._hole.close()
        for name in os.listdir(self._certs):
            os.unlink(os.path.join(self._certs, name))
        os.rmdir(self._certs)

    def __enter__(self) -> GitServers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="folder whose repositories are served")
    parser.add_argument("--state", required=True, help="JSON file to write the servers' URLs to")
    parser.add_argument("--auth", help="USER:PASSWORD required by the HTTPS server")
    parser.add_argument("--other-auth", help="USER:PASSWORD required by the other origin (default: --auth)")
    parser.add_argument("--lifetime", type=float, default=3600, help="stop after this many seconds whatever happens")
    parser.add_argument("--sshd", help="also run sshd, keeping its keys in this new folder")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with GitServers(args.root, args.auth, args.other_auth) as servers:
        sshd = SshServer(args.sshd) if args.sshd else None
        described = servers.describe()
        if sshd is not None:
            described.update(ssh=f"ssh://root@127.0.0.1:{sshd.port}", ssh_key=sshd.key, known_hosts=sshd.known_hosts)
        temp = args.state + ".tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(described, handle)
        os.replace(temp, args.state)
        stop.wait(args.lifetime)  # a test run that dies without stopping us must not leave servers behind
        if sshd is not None:
            sshd.close()
    os.unlink(args.state)
    sys.exit(0)


if __name__ == "__main__":
    main()
