"""Every invalid field gives a ProblemError with the right code and JSON path; nothing crashes."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flexems_optimizer import ProblemError, schedule

from .problems import battery, hourly, problem


def valid() -> dict[str, Any]:
    return problem(
        4,
        prices=[0.1, 0.2, 0.3, 0.4],
        devices=[battery(soc_at_start=1, soc_max=4, power_capacity=2)],
        inflexible_consumption=hourly([1, 1, 1, 1]),
    )


def set_path(target: dict[str, Any], path: list[Any], value: Any) -> None:
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()

CASES: list[tuple[str, list[Any], Any, str, str]] = [
    # (id, where, new value, code, path)
    ("no start", ["start"], _DELETE, "missing_field", "start"),
    ("naive start", ["start"], "2026-06-01T00:00:00", "naive_datetime", "start"),
    ("bad start", ["start"], "June 1st", "invalid_datetime", "start"),
    ("misaligned", ["start"], "2026-06-01T00:07:00+00:00", "misaligned_start", "start"),
    ("bad resolution", ["resolution"], "15 minutes", "invalid_duration", "resolution"),
    ("month resolution", ["resolution"], "P1M", "invalid_duration", "resolution"),
    ("negative duration", ["duration"], "-PT1H", "invalid_duration", "duration"),
    ("ragged horizon", ["duration"], "PT90M", "invalid_horizon", "duration"),
    ("absurd horizon", ["resolution"], "PT1M", None, None),  # replaced below
    ("objective", ["objective"], "profit", "invalid_objective", "objective"),
    ("unknown top key", ["horizon"], "P1D", "unknown_field", "horizon"),
    ("context typo", ["flex-context", "site-power-capacty"], 5, "unknown_field",
     "flex-context.site-power-capacty"),
    ("price unit", ["flex-context", "consumption-price"], "0.3 EUR/kW", "invalid_unit",
     "flex-context.consumption-price"),
    ("price text", ["flex-context", "consumption-price"], "cheap", "invalid_quantity",
     "flex-context.consumption-price"),
    ("price type", ["flex-context", "consumption-price"], True, "invalid_series",
     "flex-context.consumption-price"),
    ("price value", ["flex-context", "consumption-price", "values", 2], "x", "invalid_quantity",
     "flex-context.consumption-price.values[2]"),
    ("price gap", ["flex-context", "consumption-price", "values"], [0.1, 0.2], "series_gap",
     "flex-context.consumption-price"),
    ("mixed currency", ["flex-context", "production-price"], "0.1 SEK/kWh", None, None),
    ("missing price", ["flex-context", "consumption-price"], _DELETE, "missing_field",
     "flex-context.consumption-price"),
    ("negative load", ["flex-context", "inflexible-consumption", "values", 1], -1,
     "negative_value", "flex-context.inflexible-consumption"),
    ("negative capacity", ["flex-context", "site-power-capacity"], "-5 kW", "negative_value",
     "flex-context.site-power-capacity"),
    ("relax type", ["flex-context", "relax-constraints"], "yes", "invalid_type",
     "flex-context.relax-constraints"),
    ("flex-model type", ["flex-model"], "battery", "invalid_type", "flex-model"),
    ("device type", ["flex-model", 0, "type"], "fusion-reactor", "unknown_device_type",
     "flex-model[0].type"),
    ("device name", ["flex-model", 0, "name"], "", "missing_field", "flex-model[0].name"),
    ("soc-max missing", ["flex-model", 0, "soc-max"], _DELETE, "missing_field",
     "flex-model[0].soc-max"),
    ("soc-min above max", ["flex-model", 0, "soc-min"], 5, "inconsistent_bounds",
     "flex-model[0].soc-min"),
    ("soc unit", ["flex-model", 0, "soc-max"], "4 kW", "invalid_unit", "flex-model[0].soc-max"),
    ("power missing", ["flex-model", 0, "power-capacity"], _DELETE, "missing_field",
     "flex-model[0].power-capacity"),
    ("efficiency", ["flex-model", 0, "roundtrip-efficiency"], "120%", "out_of_range",
     "flex-model[0].roundtrip-efficiency"),
    ("target above max", ["flex-model", 0, "soc-targets"],
     [{"datetime": "2026-06-01T02:00:00+00:00", "value": 9}], "inconsistent_bounds",
     "flex-model[0].soc-targets[0]"),
    ("target no value", ["flex-model", 0, "soc-targets"],
     [{"datetime": "2026-06-01T02:00:00+00:00"}], "missing_field",
     "flex-model[0].soc-targets[0]"),
    ("target naive", ["flex-model", 0, "soc-targets"],
     [{"datetime": "2026-06-01T02:00:00", "value": 2}], "naive_datetime",
     "flex-model[0].soc-targets[0].datetime"),
    ("storage typo", ["flex-model", 0, "soc-mx"], 3, "unknown_field", "flex-model[0].soc-mx"),
    ("availability", ["flex-model", 0, "availability"], [{"start": "2026-06-01T02:00:00Z"}],
     "missing_field", "flex-model[0].availability[0]"),
    ("soc-unit", ["flex-model", 0, "soc-unit"], "Ah", "invalid_unit", "flex-model[0].soc-unit"),
    ("absurd quantity", ["flex-model", 0, "soc-max"], 1e25, "out_of_range",
     "flex-model[0].soc-max"),
    ("absurd series value", ["flex-context", "inflexible-consumption", "values", 0], 1e12,
     "out_of_range", "flex-context.inflexible-consumption.values[0]"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "value", "code", "path"), [c[1:] for c in CASES if c[3]],
                         ids=[c[0] for c in CASES if c[3]])  # fmt: skip
def test_invalid_field_names_code_and_path(
    where: list[Any], value: Any, code: str, path: str
) -> None:
    body = valid()
    set_path(body, where, value)
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert (raised.value.code, raised.value.path) == (code, path)
    assert raised.value.message


def test_absurd_horizons_are_refused() -> None:
    body = valid()
    body.update({"resolution": "PT1M", "duration": "P366D"})
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert raised.value.code == "horizon_too_long"
    assert "coarser resolution" in raised.value.message


def test_one_currency_per_problem() -> None:
    body = valid()
    body["flex-context"]["production-price"] = "0.1 SEK/kWh"
    body["flex-context"]["consumption-price"] = "0.3 EUR/kWh"
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert raised.value.code == "mixed_currencies"
    assert raised.value.path == "flex-context.production-price"


def test_duplicate_device_names_are_refused() -> None:
    body = valid()
    body["flex-model"].append(copy.deepcopy(body["flex-model"][0]))
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert (raised.value.code, raised.value.path) == ("duplicate_name", "flex-model[1].name")


def test_typos_get_a_suggestion() -> None:
    body = valid()
    body["flex-model"][0]["soc-mx"] = 3
    with pytest.raises(ProblemError, match="did you mean 'soc-max'"):
        schedule(body)


def test_a_target_past_the_horizon_is_noted_not_lost() -> None:
    body = valid()
    body["flex-model"][0]["soc-targets"] = [{"datetime": "2026-06-02T00:00:00Z", "value": 2}]
    plan = schedule(body)
    assert plan["notes"] == [
        "battery: soc-target at 2026-06-02T00:00:00Z is outside the plan and was ignored"
    ]


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
MUTABLE: list[Callable[[dict[str, Any]], list[Any]]] = [
    lambda b: ["start"], lambda b: ["resolution"], lambda b: ["duration"],
    lambda b: ["flex-context", "consumption-price"],
    lambda b: ["flex-context", "inflexible-consumption"],
    lambda b: ["flex-context", "site-power-capacity"],
    lambda b: ["flex-model", 0, "soc-max"], lambda b: ["flex-model", 0, "soc-targets"],
    lambda b: ["flex-model", 0, "power-capacity"], lambda b: ["flex-model", 0, "availability"],
    lambda b: ["flex-model", 0, "soc-usage"], lambda b: ["flex-model"], lambda b: ["flex-context"],
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(MUTABLE), json_values)
def test_garbage_anywhere_is_a_problem_error_or_a_plan(
    where: Callable[[dict[str, Any]], list[Any]], value: Any
) -> None:
    body = valid()
    set_path(body, where(body), value)
    try:
        plan = schedule(body)
    except ProblemError as error:
        assert error.code and error.message
    else:
        assert plan["status"] in {"optimal", "relaxed", "infeasible"}


def test_cli_prints_the_plan_or_the_error(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(valid()))
    done = subprocess.run(
        [sys.executable, "-m", "flexems_optimizer.cli", "schedule", str(good)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    bad_body = valid()
    bad_body["flex-model"][0]["soc-max"] = "lots"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_body))
    done = subprocess.run(
        [sys.executable, "-m", "flexems_optimizer.cli", "schedule", str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    error = json.loads(done.stderr)["error"]
    assert (error["code"], error["path"]) == ("invalid_quantity", "flex-model[0].soc-max")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    done = subprocess.run(
        [sys.executable, "-m", "flexems_optimizer.cli", "schedule", str(broken)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert json.loads(done.stderr)["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("on_off", [False, True])
def test_cli_summarizes_every_device_kind(tmp_path: Path, on_off: bool) -> None:
    """Storage, heat storage in kWh and °C, heat pumps and processes: one line each."""
    from flexems_optimizer.samples import coupled_site

    site = tmp_path / "site.json"
    site.write_text(json.dumps(coupled_site(96, on_off=on_off)))
    done = subprocess.run(
        [sys.executable, "-m", "flexems_optimizer.cli", "schedule", str(site), "--summary"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("status      ")
    devices = coupled_site(96)["flex-model"]
    for device in devices:
        line = next(x for x in lines if x.startswith(device["name"]))
        assert "power" in line or "soc" in line or "temperature" in line
    assert any("starts 2026-" in x for x in lines)  # an appliance's start
    assert any("temperature" in x and "°C" in x for x in lines)  # a building


def summary(tmp_path: Path, problem: dict[str, Any], *options: str) -> list[str]:
    site = tmp_path / "site.json"
    site.write_text(json.dumps(problem))
    done = subprocess.run(
        [sys.executable, "-m", "flexems_optimizer.cli", "schedule", str(site), "--summary",
         *options],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_cli_summary_says_how_sure_an_on_off_plan_is(tmp_path: Path) -> None:
    from flexems_optimizer.samples import coupled_site, hard_home

    proven = summary(tmp_path, coupled_site(96, on_off=True))
    solver = next(x for x in proven if x.startswith("solver"))
    assert "on/off decisions" in solver and "proven within" in solver
    # A search stopped at its limit answers with its best plan: the summary says so.
    searched = summary(tmp_path, hard_home(96, 0), "--search-limit", "0.2")
    solver = next(x for x in searched if x.startswith("solver"))
    assert "the best found in the search limit" in solver and "not proven" in solver
    assert any(x.startswith("peak cost") for x in searched)


def test_cli_summary_names_what_a_relaxed_plan_does_not_keep(tmp_path: Path) -> None:
    short = valid()
    # 1 kWh and 2 kW: 3 kWh at most after an hour, 4 wanted.
    short["flex-model"][0]["soc-targets"] = [{"datetime": "2026-06-01T01:00:00+00:00", "value": 4}]
    lines = summary(tmp_path, short)
    assert lines[0].startswith("status      relaxed")
    assert any(x.startswith("breaches") and "EUR" in x for x in lines)
    [breach] = [x for x in lines if x.startswith("breach ")]
    assert breach.endswith("battery soc-targets by up to 1 kWh (1 step, from 2026-06-01T01:00:00Z)")


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda p: p["flex-model"][0].update(name="a\ud800b"), "invalid_text",
         "flex-model[0].name"),
        (lambda p: p["flex-model"][0].update({"soc-max": "1" * 300}), "text_too_long",
         "flex-model[0].soc-max"),
        (lambda p: p["flex-context"].update({"x" * 201: 1}), "text_too_long",
         "flex-context." + "x" * 201),
        (lambda p: p.update({"flex-model": [
            {**p["flex-model"][0], "name": str(i)} for i in range(101)]}), "too_large",
         "flex-model"),
    ],
    ids=["lone-surrogate", "long-value", "long-key", "too-many-devices"],
)  # fmt: skip
def test_text_and_size_are_bounded(change: Any, code: str, path: str) -> None:
    body = valid()
    change(body)
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert (raised.value.code, raised.value.path) == (code, path)
