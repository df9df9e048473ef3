"""`make demo`: the optimizer service and a real Home Assistant with a simulated home.

Copies demo/config to a scratch directory, links the flexems integration into it, starts the
service (with a token of its own) and Home Assistant on free loopback ports, onboards a demo
user through Home Assistant's own onboarding API, prints the address and the login, and runs
until Ctrl-C; then stops both and everything they started.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
USER, PASSWORD = "demo", "flexems-demo"
APPLIED = ("switch.home_battery_apply_plan", "switch.car_apply_plan",
           "switch.heat_pump_apply_plan")  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"it stopped; the end of its log:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:g} s; see {log}")


def post(url: str, body: Any, token: str | None = None, form: bool = False) -> Any:
    data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded" if form
                       else "application/json")  # fmt: skip
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def onboard(base: str) -> str:
    """The owner, as the first browser visit would make it; returns an access token."""
    client = f"{base}/"
    user = post(f"{base}/api/onboarding/users", {"client_id": client, "name": "Demo",
                                                  "username": USER, "password": PASSWORD,
                                                  "language": "en"})  # fmt: skip
    tokens = post(f"{base}/auth/token", {"grant_type": "authorization_code",
                                         "code": user["auth_code"], "client_id": client},
                  form=True)  # fmt: skip
    return str(tokens["access_token"])


def wait_until_wired(base: str, token: str, seconds: float) -> None:
    """The demo integration has made the flexems entry and switched Apply plan on (its last
    step), so the home is ready when its address is printed."""
    request = urllib.request.Request(f"{base}/api/states")
    request.add_header("Authorization", f"Bearer {token}")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states: dict[str, str] = {}
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=10) as answer:
            states = {state["entity_id"]: state["state"] for state in json.load(answer)}
        if all(states.get(switch) == "on" for switch in APPLIED):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the demo home was not set up within {seconds:g} s")


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # loaded here: the child only calls it
except AttributeError:  # not Linux: stop() still ends everything
    _PRCTL = None


def _stop_with_parent() -> None:
    """In the child: the kernel sends SIGTERM when the demo (or the test run) dies, even by
    kill -9, so nothing is left behind."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(command: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            preexec_fn=_stop_with_parent,  # noqa: PLW1509 (one preloaded libc call, no locks)
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever it left behind


class DemoHome:
    """The service and Home Assistant on free loopback ports, over a scratch copy of
    demo/config; `stop()` ends both and everything they started."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.ha_port, self.addon_port = free_port(), free_port()
        self.token = secrets.token_urlsafe(24)
        self.base = f"http://127.0.0.1:{self.ha_port}"
        self.addon_url = f"http://127.0.0.1:{self.addon_port}"
        self.dashboard = f"{self.base}/flexems-demo/plan"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> DemoHome:
        config = self.scratch / "config"
        shutil.copytree(ROOT / "demo" / "config", config)
        flexems = ROOT / "custom_components" / "flexems"
        (config / "custom_components" / "flexems").symlink_to(flexems)
        # Every onboarding step but the owner's is done: the demo's user is made through the
        # onboarding API (no weather, radio or speech integrations that later steps add).
        storage = config / ".storage"
        storage.mkdir()
        (storage / "onboarding").write_text(json.dumps({
            "version": 4, "minor_version": 1, "key": "onboarding",
            "data": {"done": ["core_config", "analytics", "integration"]},
        }))  # fmt: skip
        # Home Assistant keeps its HTTP settings in storage (YAML would ask to confirm them).
        from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA

        http = HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": self.ha_port})
        (storage / "http").write_text(json.dumps({
            "version": 2, "minor_version": 2, "key": "http",
            "data": {"stable": dict(http), "pending": None, "yaml_migration_done": True},
        }))  # fmt: skip
        text = (config / "configuration.yaml").read_text()
        (config / "configuration.yaml").write_text(
            text.format(addon_url=self.addon_url, token=self.token)
        )
        bin_dir = Path(sys.executable).parent
        addon_log = self.scratch / "addon.log"
        self.processes.append(start([str(bin_dir / "flexems-optimizer"), "serve", "--port",
                                     str(self.addon_port), "--data-dir",
                                     str(self.scratch / "addon"), f"--token={self.token}"],
                                    addon_log))  # fmt: skip
        wait_for(f"{self.addon_url}/api/v1/health", 60, self.processes[-1], addon_log)
        ha_log = self.scratch / "home-assistant.log"
        self.processes.append(
            start([str(bin_dir / "hass"), "-c", str(config), "--skip-pip"], ha_log)
        )
        wait_for(f"{self.base}/manifest.json", 180, self.processes[-1], ha_log)
        wait_until_wired(self.base, onboard(self.base), 180)
        return self

    def running(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stopped like Ctrl-C: everything started goes with it


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Also when started in the background (a shell ignores SIGINT there) or the terminal goes.
        signal.signal(signum, _interrupt)
    scratch = Path(tempfile.mkdtemp(prefix="flexems-demo-"))
    home = DemoHome(scratch)
    try:
        home.start()
        print(f"\nflexems demo home: {home.dashboard}  (user {USER!r}, password {PASSWORD!r})")
        print(f"optimizer service: {home.addon_url}  (token {home.token})")
        print(f"logs and data: {scratch} (kept)\nCtrl-C stops everything.\n", flush=True)
        while home.running():
            time.sleep(1)
        print("a process stopped; see the logs", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"the demo could not start: {error}", file=sys.stderr)
    finally:
        home.stop()


if __name__ == "__main__":
    main()
