// The plan card's logic in Node (no browser): configuration checks, which entities it charts,
// the panels and their domains, the step paths and the HTML it renders for real-looking states.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cardHtml, chartedEntities, checkConfig, clip, errorHtml, formatNumber, hourTicks, localeOf, panels, seriesFrom,
  statusText, stepPath, tickLabel, valueAt, valueDomain, valueTicks,
} from "../../custom_components/flexems/frontend/flexems-plan-card.js";

const T0 = Date.parse("2026-06-01T10:00:00Z");
const H = 3600e3;
const iso = (t) => new Date(t).toISOString();

function schedule(values, start = T0, step = H) {
  return values.map((value, i) => ({ start: iso(start + i * step), end: iso(start + (i + 1) * step), value }));
}

function hass() {
  const sensor = (name, unit, values) => ({
    state: String(values[0]), attributes: { friendly_name: name, unit_of_measurement: unit, schedule: schedule(values) },
  });
  return {
    states: {
      "sensor.battery_planned_power": sensor("battery Planned power", "kW", [5, 5, -2, 0]),
      "sensor.flexems_planner_planned_grid_power": sensor("flexems planner Planned grid power", "kW", [6, 1, -1, 0.5]),
      "sensor.battery_planned_energy_stored": sensor("battery Planned energy stored", "kWh", [5, 10, 8, 8]),
      "sensor.heat_pump_planned_temperature": sensor("heat pump Planned temperature", "°C", [20.5, 21, 21.5, 21]),
      "sensor.flexems_planner_plan_status": { state: "optimal", attributes: {} },
      "sensor.other_power": sensor("someone else's", "kW", [1, 1, 1, 1]),
      "sensor.street_community_planned_peak": {
        ...sensor("Street Community planned peak", "kW", [40, 38, 40, 12]),
        attributes: { ...sensor("x", "kW", [40, 38, 40, 12]).attributes, community: true },
      },
    },
    entities: {
      "sensor.battery_planned_power": { platform: "flexems" },
      "sensor.flexems_planner_planned_grid_power": { platform: "flexems" },
      "sensor.battery_planned_energy_stored": { platform: "flexems" },
      "sensor.heat_pump_planned_temperature": { platform: "flexems" },
      "sensor.flexems_planner_plan_status": { platform: "flexems" },
      "sensor.other_power": { platform: "template" },
      "sensor.street_community_planned_peak": { platform: "flexems" },
    },
  };
}

test("a bad configuration says what is wrong and where", () => {
  assert.throws(() => checkConfig(null), /no configuration/);
  assert.throws(() => checkConfig({ entities: "sensor.x" }), /entities must be a list/);
  assert.throws(() => checkConfig({ entities: ["sensor.ok", "light.kitchen"] }), /entities\[1\] is not a sensor entity id: "light.kitchen"/);
  assert.throws(() => checkConfig({ hours: -3 }), /hours must be a positive number, not -3/);
  assert.deepEqual(checkConfig({ entities: [{ entity: "sensor.a", name: "A" }], hours: 24 }).hours, 24);
});

test("by default it charts flexems' own sensors that carry a schedule", () => {
  assert.deepEqual(chartedEntities(hass(), {}), [
    "sensor.battery_planned_energy_stored",
    "sensor.battery_planned_power",
    "sensor.flexems_planner_planned_grid_power",
    "sensor.heat_pump_planned_temperature",
  ]);
  assert.deepEqual(chartedEntities(hass(), { entities: ["sensor.other_power", { entity: "sensor.battery_planned_power" }] }),
    ["sensor.other_power", "sensor.battery_planned_power"]);
  // A community's aggregate only when asked for: it would dwarf the home's own power.
  assert.deepEqual(chartedEntities(hass(), { entities: ["sensor.street_community_planned_peak"] }),
    ["sensor.street_community_planned_peak"]);
});

test("one panel per unit: power, then energy, then temperature", () => {
  const series = seriesFrom(hass(), chartedEntities(hass(), {}));
  assert.deepEqual(panels(series).map((p) => [p.unit, p.series.length]), [["kW", 2], ["kWh", 1], ["°C", 1]]);
  assert.equal(series[0].points[0].start, T0);
  assert.equal(series[0].points.at(-1).end, T0 + 4 * H);
});

test("domains include zero for power and energy, and hug temperatures", () => {
  const [low, high] = valueDomain("kW", [{ points: [{ value: 2 }, { value: 5 }] }]);
  assert.equal(low, 0);
  assert.ok(high > 5 && high < 5.5);
  const [cold, warm] = valueDomain("°C", [{ points: [{ value: 20 }, { value: 22 }] }]);
  assert.ok(cold > 19.5 && cold < 20 && warm > 22 && warm < 22.5);
  assert.deepEqual(valueDomain("kW", [{ points: [{ value: 0 }] }]), [-1, 1]);
});

test("a step path holds each value over its interval and lifts the pen over gaps", () => {
  const x = (t) => (t - T0) / H * 10;
  const y = (v) => 100 - v;
  const points = [
    { start: T0, end: T0 + H, value: 1 },
    { start: T0 + H, end: T0 + 2 * H, value: 3 },
    { start: T0 + 3 * H, end: T0 + 4 * H, value: 2 },
  ];
  assert.equal(stepPath(points, x, y), "M0.0,99.0H10.0V97.0H20.0M30.0,98.0H40.0");
});

test("the value now is the step containing now", () => {
  const [series] = seriesFrom(hass(), ["sensor.battery_planned_power"]);
  assert.equal(valueAt(series, T0 + 2.5 * H), -2);
  assert.equal(valueAt(series, T0 + 4 * H), null);
});

test("hour ticks are spaced so that about six fit", () => {
  const ticks = hourTicks(T0, T0 + 24 * H);
  assert.ok(ticks.length >= 4 && ticks.length <= 8, `${ticks.length} ticks`);
  assert.ok(ticks.every((t, i) => i === 0 || t - ticks[i - 1] === ticks[1] - ticks[0]));
});

test("the card shows its title, status, a chart per unit and the values now", () => {
  const html = cardHtml(hass(), { title: "Tonight", status_entity: "sensor.flexems_planner_plan_status" }, T0 + 30 * 60e3);
  assert.match(html, /<span class="title">Tonight<\/span>/);
  assert.match(html, /<span class="status">optimal<\/span>/);
  assert.equal((html.match(/<svg /g) || []).length, 3);
  assert.equal((html.match(/class="series"/g) || []).length, 4);
  assert.match(html, /class="now"/);
  assert.match(html, /battery Planned power<span class="value">5\.00 kW<\/span>/);
  assert.match(html, /heat pump Planned temperature<span class="value">20\.5 °C<\/span>/);
});

test("names are escaped and a card with nothing to chart says why", () => {
  const states = hass();
  states.states["sensor.battery_planned_power"].attributes.friendly_name = "<b>battery</b>";
  assert.match(cardHtml(states, { entities: ["sensor.battery_planned_power"] }, T0), /&#60;b&#62;battery/);
  assert.match(cardHtml({ states: {}, entities: {} }, {}, T0), /No plan to show yet/);
});

test("hours limits the chart to a window from now", () => {
  const html = cardHtml(hass(), { entities: ["sensor.battery_planned_power"], hours: 2 }, T0);
  // 5 kW, 5 kW, then -2 kW and 0 after the window: the path ends at the right edge (x = 592)
  // and the domain no longer goes below zero.
  assert.equal(html.match(/class="series"[^>]* d="([^"]+)"/)[1], "M44.0,26.3H318.0V26.3H592.0");
  assert.match(html, /class="tick value-tick"[^>]*>0<\/text>/);
});

test("clip cuts points at the window's edges", () => {
  const points = [{ start: 0, end: 10, value: 1 }, { start: 10, end: 20, value: 2 }, { start: 20, end: 30, value: 3 }];
  assert.deepEqual(clip(points, 5, 15), [{ start: 5, end: 10, value: 1 }, { start: 10, end: 15, value: 2 }]);
});

test("a wrong option is shown on the card itself, in view mode too", () => {
  let error;
  try { checkConfig({ entities: ["light.kitchen"] }); } catch (e) { error = e; }
  const html = errorHtml(error);
  assert.match(html, /<ha-card>/);
  assert.match(html, /role="alert">flexems-plan-card: entities\[0\] is not a sensor entity id: &#34;light.kitchen&#34;/);
});

test("times follow the user's 12- or 24-hour clock, language and time zone", () => {
  const t = Date.parse("2026-06-01T13:00:00Z");
  const utc = { time_zone: "server", language: "en" };
  const config = { time_zone: "UTC" };
  const twelve = localeOf({ locale: { ...utc, time_format: "12" }, config });
  const twentyFour = localeOf({ locale: { ...utc, time_format: "24" }, config });
  assert.match(tickLabel(t, twelve), /^1:00\sPM$/);
  assert.equal(tickLabel(t, twentyFour), "13:00");
  const stockholm = localeOf({ locale: { time_zone: "server", time_format: "24", language: "sv" }, config: { time_zone: "Europe/Stockholm" } });
  assert.equal(tickLabel(t, stockholm), "15:00"); // CEST
  assert.equal(tickLabel(Date.parse("2026-06-01T22:00:00Z"), stockholm), "tis"); // midnight: the weekday
});

test("hour ticks fall on whole local hours, also in a half-hour time zone", () => {
  const india = localeOf({ locale: { time_zone: "server" }, config: { time_zone: "Asia/Kolkata" } });
  const ticks = hourTicks(T0, T0 + 24 * H, india);
  assert.ok(ticks.length >= 4 && ticks.length <= 8, `${ticks.length} ticks`);
  assert.ok(ticks.every((t) => new Date(t).getUTCMinutes() === 30)); // 05:30 ahead of UTC
});

test("numbers follow the user's number format", () => {
  assert.equal(formatNumber(1234.5, 2, localeOf({ locale: { number_format: "decimal_comma" } })), "1.234,50");
  assert.equal(formatNumber(1234.5, 2, localeOf({ locale: { number_format: "comma_decimal" } })), "1,234.50");
  assert.equal(formatNumber(1234.5, 1, localeOf({ locale: { number_format: "none" } })), "1234.5");
  const html = cardHtml({ ...hass(), locale: { number_format: "decimal_comma" } }, {}, T0 + 30 * 60e3);
  assert.match(html, /battery Planned power<span class="value">5,00 kW<\/span>/);
});

test("value axes are labelled at round steps", () => {
  assert.deepEqual(valueTicks(0, 5.4), [0, 2, 4]);
  assert.deepEqual(valueTicks(0, 4.6), [0, 1, 2, 3, 4]);
  assert.deepEqual(valueTicks(-2.3, 6.4), [-2, 0, 2, 4, 6]);
  assert.deepEqual(valueTicks(19.8, 22.2), [20, 20.5, 21, 21.5, 22]);
});

test("the plan status is shown translated when Home Assistant can", () => {
  const states = hass();
  const stateObj = states.states["sensor.flexems_planner_plan_status"];
  assert.equal(statusText(states, stateObj), "optimal");
  const translated = { ...states, formatEntityState: (s) => ({ optimal: "Optimal", relaxed: "Relaxed (with breaches)" })[s.state] };
  assert.equal(statusText(translated, stateObj), "Optimal");
  assert.match(cardHtml(translated, { status_entity: "sensor.flexems_planner_plan_status" }, T0), /<span class="status">Optimal<\/span>/);
  // A plan a search found but did not prove says how close it is known to be.
  const searched = { ...stateObj, attributes: { ...stateObj.attributes, proven_optimal: false, optimality_gap: 3.2 } };
  assert.equal(statusText(translated, searched), "Optimal (within 3.2 %, not proven)");
  const proven = { ...stateObj, attributes: { ...stateObj.attributes, proven_optimal: true, optimality_gap: 0.09 } };
  assert.equal(statusText(translated, proven), "Optimal");
});
