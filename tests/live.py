"""A real ``geo-service serve`` for tests that attack or load the server itself (not the test client)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run ``geo-service ARGS`` with ``env`` and return its stdout (fails loudly)."""
    out = subprocess.run([sys.executable, "-m", "geo_service.cli", *args], env=env, input=stdin,
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError(f"geo-service {' '.join(args)} failed: {out.stderr[-2000:]}")
    return out.stdout


@dataclass
class LiveServer:
    """One running server: its base URL, environment, data folder and log."""

    base: str
    env: dict[str, str]
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                role: str | None = "admin", timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """Send one request; returns (status, headers, body) also for 4xx/5xx answers."""
        hdrs = dict(headers or {})
        if role is not None:
            hdrs.setdefault("Authorization", f"Bearer {self.tokens[role]}")
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def json(self, method: str, path: str, payload: Any = None, **kw: Any) -> tuple[int, Any]:
        """A JSON request; returns (status, parsed body)."""
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        status, _h, raw = self.request(method, path, body=body, headers=headers, **kw)
        return status, json.loads(raw) if raw else None

    def upload(self, path: str, files: dict[str, tuple[str, bytes]], fields: dict[str, str] | None = None,
               role: str = "admin") -> tuple[int, Any]:
        """A multipart/form-data POST (``files``: field -> (filename, bytes))."""
        boundary = "----geo-service-test-" + os.urandom(8).hex()
        parts: list[bytes] = []
        for name, value in (fields or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, data) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        status, _h, raw = self.request("POST", path, body=b"".join(parts), role=role,
                                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return status, json.loads(raw) if raw else None

    def stop(self) -> None:
        """Stop the server and its workers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_server(data_dir: Path, *, workers: int = 2, roles: tuple[str, ...] = ("admin", "dispatcher"),
                 extra_env: dict[str, str] | None = None, serve_args: tuple[str, ...] = (),
                 deadline_s: float = 90.0) -> LiveServer:
    """Migrate, create a token per role and start ``geo-service serve`` on a free loopback port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GEO_SERVICE_DATA_DIR": str(data_dir), "GEO_SERVICE_LOG_LEVEL": "WARNING",
           **(extra_env or {})}
    cli(env, "db", "upgrade")
    tokens = {role: cli(env, "token", "create", "--role", role, "--name", f"live-{role}").strip().splitlines()[-1]
              for role in roles}
    port = free_port()
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--workers", str(workers), *serve_args],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    server = LiveServer(base=f"http://127.0.0.1:{port}", env=env, data_dir=data_dir, proc=proc, log=log,
                        tokens=tokens)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.base + "/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise AssertionError(f"server did not become healthy in {deadline_s} s: {log.read_text()[-2000:]}")
