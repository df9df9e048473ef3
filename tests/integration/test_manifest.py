"""What hassfest checks for a custom integration, and files that must agree with each other."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "flexems"
ALLOWED_KEYS = {
    "domain", "name", "after_dependencies", "codeowners", "config_flow", "dependencies",
    "documentation", "integration_type", "iot_class", "issue_tracker", "loggers", "requirements",
    "version", "hassio", "quality_scale", "single_config_entry",
}  # fmt: skip


def test_manifest_is_what_hassfest_accepts_for_a_custom_integration() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert set(keys) <= ALLOWED_KEYS
    assert manifest["domain"] == "flexems" and manifest["version"]
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"  # plans are pushed by the add-on
    assert manifest["integration_type"] == "service"


def test_translations_are_the_strings_and_cover_the_actions() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    assert json.loads((INTEGRATION / "translations" / "en.json").read_text()) == strings
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    assert set(services) == set(strings["services"])
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(icons["services"]) == set(services)
    for platform in ("sensor", "button", "switch", "number", "time"):
        assert set(icons["entity"][platform]) == set(strings["entity"][platform])


def test_hacs_and_brand() -> None:
    hacs = json.loads((INTEGRATION.parents[1] / "hacs.json").read_text())
    assert hacs["name"] == "flexems" and hacs["homeassistant"] >= "2026.10"
    assert (INTEGRATION / "brand" / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_version_for_the_release() -> None:
    """The integration, the add-on, its Python package and the changelog's newest entry."""
    import flexems_optimizer

    root = INTEGRATION.parents[1]
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())["version"]
    addon = yaml.safe_load((root / "addon" / "config.yaml").read_text())["version"]
    newest = next(
        line.removeprefix("## ").split()[0]
        for line in (root / "addon" / "CHANGELOG.md").read_text().splitlines()
        if line.startswith("## ")
    )
    assert manifest == addon == flexems_optimizer.__version__ == newest


def test_every_input_error_has_its_texts_and_placeholders_carry_no_english() -> None:
    """One translation key per cause, for repairs and for exceptions alike; the placeholders
    a cause fills are the ones its texts use."""
    import re
    import string

    from custom_components.flexems.errors import CAUSES

    strings = json.loads((INTEGRATION / "strings.json").read_text())
    for cause, english in CAUSES.items():
        key = f"missing_input_{cause}"
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f} | {"entity_id"}
        for text in (strings["exceptions"][key]["message"], strings["issues"][key]["description"]):
            assert set(re.findall(r"{(\w+)}", text)) == fields
