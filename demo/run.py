"""`make demo`: the optimizer service and a real Home Assistant with a simulated home.

Copies demo/config to a scratch directory, links the flexems integration into it, starts the
service (with a token of its own) and Home Assistant on free loopback ports, onboards a demo
user through Home Assistant's own onboarding API, prints the address and the login, and runs
until Ctrl-C; then stops both and everything they started.
"""

from __future__ import annotations

import contextlib
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
USER, PASSWORD = "demo", "flexems-demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"it stopped; its log:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not answer within {seconds:g} s; see {log}")


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


def onboard(base: str) -> None:
    """The owner, as the first browser visit would make it."""
    client = f"{base}/"
    user = post(f"{base}/api/onboarding/users", {"client_id": client, "name": "Demo",
                                                  "username": USER, "password": PASSWORD,
                                                  "language": "en"})  # fmt: skip
    tokens = post(f"{base}/auth/token", {"grant_type": "authorization_code",
                                         "code": user["auth_code"], "client_id": client},
                  form=True)  # fmt: skip
    assert tokens["access_token"]


def start(command: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
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


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stopped like Ctrl-C: everything started goes with it


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    scratch = Path(tempfile.mkdtemp(prefix="flexems-demo-"))
    config = scratch / "config"
    shutil.copytree(ROOT / "demo" / "config", config)
    (config / "custom_components" / "flexems").symlink_to(ROOT / "custom_components" / "flexems")
    ha_port, addon_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    addon_url = f"http://127.0.0.1:{addon_port}"
    # Every onboarding step but the owner's is done: the demo's user is made through the
    # onboarding API below (no weather, radio or speech integrations that the later steps add).
    storage = config / ".storage"
    storage.mkdir()
    (storage / "onboarding").write_text(json.dumps({
        "version": 4, "minor_version": 1, "key": "onboarding",
        "data": {"done": ["core_config", "analytics", "integration"]},
    }))  # fmt: skip
    text = (config / "configuration.yaml").read_text()
    (config / "configuration.yaml").write_text(
        text.format(ha_port=ha_port, addon_url=addon_url, token=token)
    )
    bin_dir = Path(sys.executable).parent
    processes = []
    try:
        addon_log = scratch / "addon.log"
        processes.append(start([str(bin_dir / "flexems-optimizer"), "serve", "--port",
                                str(addon_port), "--data-dir", str(scratch / "addon"),
                                "--token", token], addon_log))  # fmt: skip
        wait_for(f"{addon_url}/api/v1/health", 60, processes[-1], addon_log)
        ha_log = scratch / "home-assistant.log"
        processes.append(start([str(bin_dir / "hass"), "-c", str(config), "--skip-pip"], ha_log))
        base = f"http://127.0.0.1:{ha_port}"
        wait_for(f"{base}/manifest.json", 180, processes[-1], ha_log)
        onboard(base)
        print(f"\nflexems demo home: {base}  (user {USER!r}, password {PASSWORD!r})")
        print(f"optimizer service: {addon_url}  (token {token})")
        print(f"logs and data: {scratch} (kept)\nCtrl-C stops everything.\n", flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        print("a process stopped; see the logs", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            stop(process)


if __name__ == "__main__":
    main()
