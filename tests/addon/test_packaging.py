"""The add-on as the Supervisor and Docker would see it, checked offline (no Docker engine here)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

import flexems_optimizer

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
ARCHES = {"aarch64", "amd64", "armhf", "armv7", "i386"}
STARTUP = {"initialize", "system", "services", "application", "once"}
SCHEMA_TYPE = re.compile(
    r"^(?P<kind>str|bool|int|float|email|url|password|port|match|list|device)"
    r"(?:\((?P<args>.*)\))?(?P<optional>\?)?$"
)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ADDON / "config.yaml").read_text())
    return loaded


def test_config_has_what_the_supervisor_requires(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch"):
        assert config.get(key), key
    assert config["slug"] == "flexems"
    assert config["version"] == flexems_optimizer.__version__
    assert set(config["arch"]) == {"aarch64", "amd64"} and set(config["arch"]) <= ARCHES
    assert config["startup"] in STARTUP and config["startup"] == "application"
    assert config["boot"] == "auto"
    assert config["init"] is False
    assert config["ingress"] is True and config["ingress_port"] == 8099
    assert config["discovery"] == ["flexems"]
    assert config["map"] == ["addon_config:rw"]
    assert set(config["ports"]) == set(config["ports_description"]) == {"8099/tcp"}


def _check_option(name: str, value: Any, rule: str) -> None:
    match = SCHEMA_TYPE.match(rule)
    assert match, f"{name}: {rule!r} is not a Supervisor schema type"
    kind, args, optional = match["kind"], match["args"], match["optional"]
    if optional and value in ("", None):
        return
    if kind == "list":
        assert value in args.split("|"), name
    elif kind in {"int", "float"}:
        assert isinstance(value, int | float) and not isinstance(value, bool), name
        if kind == "int":
            assert isinstance(value, int), name
        if args:
            low, high = (float(x) if x else None for x in args.split(","))
            assert low is None or value >= low, name
            assert high is None or value <= high, name
    elif kind in {"str", "password", "email", "url"}:
        assert isinstance(value, str), name
    elif kind == "bool":
        assert isinstance(value, bool), name


def test_options_and_schema_agree(config: dict[str, Any]) -> None:
    assert set(config["options"]) == set(config["schema"])
    for name, rule in config["schema"].items():
        _check_option(name, config["options"][name], rule)


def test_translations_name_only_real_options(config: dict[str, Any]) -> None:
    translations = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text())
    assert set(translations["configuration"]) == set(config["schema"])
    assert set(translations["network"]) == set(config["ports"])


def test_the_run_script_reads_every_option_and_announces_discovery(config: dict[str, Any]) -> None:
    run = ADDON / "rootfs/etc/services.d/flexems/run"
    script = run.read_text()
    assert run.stat().st_mode & 0o111 and (run.parent / "finish").stat().st_mode & 0o111
    assert set(re.findall(r"bashio::config(?:\.has_value)? '(\w+)'", script)) == set(
        config["options"]
    )
    assert "http://supervisor/discovery" in script and 'service "flexems"' in script
    assert f"PORT={config['ingress_port']}" in script
    assert "exec python3 -m flexems_optimizer.cli serve" in script


def test_one_config_yaml_and_a_repository_file() -> None:
    configs = [p for p in ROOT.rglob("config.yaml") if ".venv" not in p.parts]
    assert configs == [ADDON / "config.yaml"]
    repository = yaml.safe_load((ROOT / "repository.yaml").read_text())
    assert {"name", "url", "maintainer"} <= set(repository)


def test_the_image_pins_what_the_project_pins() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [
        line
        for line in (ADDON / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert sorted(requirements) == sorted(pyproject["project"]["dependencies"])


def test_the_dockerfile_install_step_works_in_a_fresh_environment(tmp_path: Path) -> None:
    dockerfile = (ADDON / "Dockerfile").read_text()
    # A dated tag (release of Home Assistant's docker-base), not a moving one.
    assert re.search(
        r"^FROM ghcr\.io/home-assistant/base-python:3\.14-alpine3\.24-20\d\d\.\d\d\.\d+$",
        dockerfile,
        flags=re.MULTILINE,
    )
    assert 'io.hass.type="app"' in dockerfile
    (install,) = re.findall(r"^RUN (pip install .*)$", dockerfile, flags=re.MULTILINE)
    # The same command, with the image's paths mapped to this checkout and a fresh venv.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = shlex.split(
        install.replace("/opt/flexems/requirements.txt", str(ADDON / "requirements.txt"))
    )
    command[0] = str(venv / "bin" / "pip")
    subprocess.run([*command, "--quiet"], check=True)
    # What the image then runs: the copied package on PYTHONPATH, started by the run script.
    subprocess.run(["cp", "-r", str(ADDON / "flexems_optimizer"), str(tmp_path)], check=True)
    check = "import flexems_optimizer.api.app as app; print(app.__version__)"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", check],
        env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == flexems_optimizer.__version__


def test_the_apparmor_profile_names_what_the_service_uses() -> None:
    rules = [line.strip() for line in (ADDON / "apparmor.txt").read_text().splitlines()]
    assert "file," not in rules  # no catch-all
    for needed in ("/config/** rwk,", "/data/** rwk,", "/opt/flexems/** r,", "/init ix,"):
        assert needed in rules, needed


def test_what_the_store_and_a_release_need() -> None:
    from PIL import Image

    assert "Apache License" in (ROOT / "LICENSE").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert Image.open(ADDON / "icon.png").size == (128, 128)
    assert Image.open(ADDON / "logo.png").size == (250, 100)
    assert (ADDON / "README.md").read_text().startswith("# flexems optimizer")
    workflows = ROOT / ".github" / "workflows"
    ci = yaml.safe_load((workflows / "ci.yml").read_text())
    steps = [step for job in ci["jobs"].values() for step in job["steps"]]
    assert any(step.get("run", "").startswith("make test") for step in steps)
    uses = {step.get("uses", "").split("@")[0] for step in steps}
    assert {"home-assistant/actions/hassfest", "hacs/action"} <= uses
    release = (workflows / "release.yml").read_text()
    for versioned in ("manifest.json", "addon/config.yaml", "__init__.py", "CHANGELOG.md"):
        assert versioned in release
