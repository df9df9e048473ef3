"""The real optimizer service in a subprocess on a loopback port, and a small HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class Server:
    def __init__(
        self,
        data_dir: Path,
        *options: str,
        token: str | None = TOKEN,
        port: int | None = None,
        healthy: bool = True,
    ) -> None:
        """Start the service and wait until it answers its health check (with 200, unless
        `healthy` is False: then any answer will do)."""
        self.port = port or free_port()
        self.token = token or ""
        self.base = f"http://127.0.0.1:{self.port}"
        arguments = ["--port", str(self.port), "--data-dir", str(data_dir), *options]
        # A token given; "" for none at all (loopback only); None: the service makes its own.
        if token:
            arguments.append(f"--token={token}")  # one made by token_urlsafe may begin with "-"
        elif token == "":
            arguments.append("--allow-unauthenticated")
        # A file, not a pipe: an unread pipe fills up and blocks the server's logging.
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / f"server-{self.port}.log"
        with self.log_path.open("w") as log:
            # Its own process group: whatever it leaves (forkserver, resource tracker, workers)
            # is ended with it, so a test run leaves no process behind.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flexems_optimizer.cli", "serve", *arguments],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()}")
            try:
                if self.request("GET", "/api/v1/health").status == 200 or not healthy:
                    if token is None:
                        self.token = (data_dir / "token").read_text().strip()
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not answer within 30 s")

    def upgrade_status(self, path: str, token: str | None = None) -> int:
        """The HTTP status of a WebSocket upgrade to `path` with `token` as its bearer token
        (None: no token): 101 when the WebSocket opens."""

        async def attempt() -> int:
            url = f"ws://127.0.0.1:{self.port}{path}"
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            async with aiohttp.ClientSession() as session:
                try:
                    async with session.ws_connect(url, headers=headers):
                        return 101
                except aiohttp.WSServerHandshakeError as error:
                    return error.status

        return asyncio.run(attempt())

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = None,
        timeout: float = 60,
    ) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.base + path, data=data, method=method)
        bearer = self.token if token is None else token
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), _json(error.read()))

    def stop(self, *, hard: bool = False) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # what the service left behind
        return self.log_path.read_text()


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


async def events(
    server: Server, site: str, count: int, timeout_s: float = 20, kinds: set[str] | None = None
) -> list[Any]:
    """The first `count` events of the site's channel, of `kinds` if given (or fewer, when it
    times out)."""
    url = f"ws://127.0.0.1:{server.port}/api/v1/sites/{site}/events"
    received: list[Any] = []
    headers = {"Authorization": f"Bearer {server.token}"}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        deadline = time.monotonic() + timeout_s
        while len(received) < count and (left := deadline - time.monotonic()) > 0:
            try:
                message = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            event = message.json()
            if kinds is None or event["type"] in kinds:
                received.append(event)
    return received


# The step of the rolling sites the tests make (15 minutes), and so of their plans' windows.
STEP_S = 900


def clear_of_a_step_boundary(step_s: int = STEP_S, margin_s: float = 30.0) -> None:
    """Rolling sites are planned from the current step, and tests name its steps: a test begun in
    a step's last seconds waits for the next step, so that the plan it checks is not made for
    one step and checked against the next. `margin_s`: longer than what must run within one
    step (30 s: the slowest single test of a rolling site takes about 6 s, twice that under
    load)."""
    left_s = step_s - time.time() % step_s
    if left_s < margin_s:
        time.sleep(left_s + 0.5)
