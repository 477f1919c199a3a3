"""A fake Hugging Face hub on 127.0.0.1, for driving the real ``huggingface_hub`` client.

It serves model folders (the tiny offline models) as hub repos, the way the hub answers:

- ``GET /api/models/{repo}[/revision/{rev}]`` (``?blobs=true``): the repo's commit and its
  files with sizes, LFS files with their sha256;
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}``: small files answered directly (``ETag`` is
  the git blob id, ``X-Repo-Commit`` the commit); LFS files (weights, sentencepiece models)
  redirected with ``302`` to a CDN on *another* port, the metadata (``X-Linked-Etag``,
  ``X-Linked-Size``) on the redirect itself, as the hub does for its storage hosts;
- unknown repos and files: ``404`` with ``X-Error-Code`` ``RepoNotFound`` / ``EntryNotFound``;
- the CDN honours ``Range`` (the client resumes a cut download with it).

``pause()`` holds every answer until ``resume()``. ``cut(path, times)`` makes the CDN close
the connection right after the headers for the next ``times`` requests of that file, as a
dropped connection does; ``stop()`` takes both servers away (the network is gone). Every
request is recorded as ``(method, path)``.

Run by threads of its own (``http.server``), so the synchronous hub client can be driven from
plain tests, worker threads and subprocesses alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = frozenset({".safetensors", ".bin", ".model", ".h5", ".msgpack"})
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
_BLOB = re.compile(r"^/blobs/(?P<sha>[0-9a-f]{64})$")


@dataclass(frozen=True)
class RepoFile:
    path: str
    data: bytes
    blob_id: str  # git's id of the content
    sha256: str

    @property
    def lfs(self) -> bool:
        return Path(self.path).suffix in LFS_SUFFIXES


@dataclass(frozen=True)
class Repo:
    commit: str
    files: dict[str, RepoFile]


def load_repo(folder: Path) -> Repo:
    """Every file under ``folder`` (hidden ones and lock files left out), and a commit id
    that changes when any of them does."""
    files: dict[str, RepoFile] = {}
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder).as_posix()
        if not file.is_file() or any(part.startswith(".") for part in relative.split("/")):
            continue
        data = file.read_bytes()
        blob_id = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        files[relative] = RepoFile(relative, data, blob_id, hashlib.sha256(data).hexdigest())
    commit = hashlib.sha1("".join(f.blob_id for f in files.values()).encode()).hexdigest()
    return Repo(commit, files)


class FakeHub:
    """``with FakeHub({"tiny/clip": folder}) as hub``: ``hub.url`` is the HF_ENDPOINT."""

    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = {repo_id: load_repo(folder) for repo_id, folder in repos.items()}
        self.requests: list[tuple[str, str]] = []
        self._cuts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.stopped = False
        self._open = threading.Event()
        self._open.set()
        self._hub = _server(self, _HubHandler)
        self._cdn = _server(self, _CdnHandler)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._hub.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self._cdn.server_address[1]}"

    def __enter__(self) -> FakeHub:
        for server in (self._hub, self._cdn):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Both servers gone: new connections are refused, open ones are dropped."""
        self.stopped = True
        for server in (self._hub, self._cdn):
            server.shutdown()
            server.server_close()
        with self._lock:
            open_connections, self._connections = list(self._connections), set()
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def pause(self) -> None:
        """Hold every answer from now on until ``resume()`` (a hub that is slow to answer)."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def wait_open(self) -> None:
        self._open.wait()

    def cut(self, path: str, times: int) -> None:
        """The next ``times`` CDN requests for ``path`` lose their connection after the headers."""
        with self._lock:
            self._cuts[path] = times

    def downloads(self, path: str) -> int:
        """How many times the content of ``path`` was asked for (GET, hub or CDN)."""
        return sum(1 for method, p in self.requests if method == "GET" and p == path)

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def take_cut(self, path: str) -> bool:
        with self._lock:
            left = self._cuts.get(path, 0)
            if left > 0:
                self._cuts[path] = left - 1
            return left > 0

    def file_by_sha(self, sha256: str) -> RepoFile | None:
        for repo in self.repos.values():
            for file in repo.files.values():
                if file.sha256 == sha256:
                    return file
        return None


def _server(hub: FakeHub, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.hub = hub  # type: ignore[attr-defined]
    return server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def hub(self) -> FakeHub:
        return self.server.hub  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.hub.opened(self.connection)

    def handle_one_request(self) -> None:
        if self.hub.stopped:  # a kept-alive connection outlived stop(): drop it
            self.close_connection = True
            return
        self.hub.wait_open()
        super().handle_one_request()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(
        self, status: int, headers: dict[str, str], body: bytes = b"", *, head: bool = False
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _not_found(self, code: str, commit: str | None = None, *, head: bool = False) -> None:
        body = json.dumps({"error": f"{code}"}).encode()
        headers = {
            "X-Error-Code": code,
            "X-Error-Message": code,
            "Content-Type": "application/json",
        }
        if commit:
            headers["X-Repo-Commit"] = commit
        self._answer(404, headers, body, head=head)


class _HubHandler(_Handler):
    def do_HEAD(self) -> None:
        self._resolve(head=True)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/api/"):
            self.hub.record("GET", path)
            self._api(path)
        else:
            self._resolve(head=False)

    def _api(self, path: str) -> None:
        match = _API.match(path)
        repo = self.hub.repos.get(match["repo"]) if match else None
        if match is None or repo is None:
            self._not_found("RepoNotFound")
            return
        siblings = []
        for file in repo.files.values():
            sibling: dict[str, object] = {
                "rfilename": file.path,
                "size": len(file.data),
                "blobId": file.blob_id,
            }
            if file.lfs:
                sibling["lfs"] = {"sha256": file.sha256, "size": len(file.data), "pointerSize": 132}
            siblings.append(sibling)
        body = json.dumps(
            {"id": match["repo"], "modelId": match["repo"], "sha": repo.commit,
             "private": False, "siblings": siblings}
        ).encode()  # fmt: skip
        self._answer(200, {"Content-Type": "application/json"}, body)

    def _resolve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.hub.record("HEAD" if head else "GET", path)
        match = _RESOLVE.match(path)
        repo = self.hub.repos.get(match["repo"]) if match else None
        if match is None or repo is None:
            self._not_found("RepoNotFound", head=head)
            return
        file = repo.files.get(match["path"])
        if file is None:
            self._not_found("EntryNotFound", repo.commit, head=head)
            return
        if file.lfs:
            self._answer(
                302,
                {
                    "Location": f"{self.hub.cdn_url}/blobs/{file.sha256}",
                    "X-Repo-Commit": repo.commit,
                    "X-Linked-Etag": f'"{file.sha256}"',
                    "X-Linked-Size": str(len(file.data)),
                    "ETag": f'"{file.blob_id}"',
                },
                head=head,
            )
            return
        headers = {
            "X-Repo-Commit": repo.commit,
            "ETag": f'"{file.blob_id}"',
            "Content-Type": "application/octet-stream",
        }
        self._answer(200, headers, file.data, head=head)


class _CdnHandler(_Handler):
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        match = _BLOB.match(path)
        file = self.hub.file_by_sha(match["sha"]) if match else None
        self.hub.record("GET", file.path if file else path)
        if file is None:
            self._answer(404, {}, b"no such blob")
            return
        start = _range_start(self.headers.get("Range"))
        data = file.data[start:]
        status = 206 if start else 200
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(file.data) - 1}/{len(file.data)}"
        if self.hub.take_cut(file.path):
            self._answer(status, headers, head=True)  # the headers, then the line goes dead
            self.close_connection = True
            return
        self._answer(status, headers, data)


def _range_start(header: str | None) -> int:
    match = re.match(r"bytes=(\d+)-", header or "")
    return int(match[1]) if match else 0
