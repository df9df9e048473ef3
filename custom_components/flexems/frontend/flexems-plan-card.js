// The flexems plan card: the plan's schedules as step charts, one panel per unit (planned
// power in kW, energy stored in kWh, temperatures in °C), with a line at "now" and a legend
// giving each series' value now. Plain custom element, no build step: Home Assistant serves
// this file as it is. The functions before the element are pure, so they are tested in Node.

export const CARD_TYPE = "flexems-plan-card";
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#17becf", "#bcbd22", "#7f7f7f"];
const UNIT_ORDER = ["kW", "kWh", "°C"];

/** Checks a card configuration; throws an Error saying what is wrong and where. */
export function checkConfig(config) {
  if (!config || typeof config !== "object") throw new Error("flexems-plan-card: no configuration");
  const { entities, hours, title } = config;
  if (entities !== undefined) {
    if (!Array.isArray(entities)) throw new Error("flexems-plan-card: entities must be a list");
    entities.forEach((entity, i) => {
      const id = typeof entity === "string" ? entity : entity?.entity;
      if (typeof id !== "string" || !/^sensor\.\w+$/.test(id)) {
        throw new Error(`flexems-plan-card: entities[${i}] is not a sensor entity id: ${JSON.stringify(entity)}`);
      }
    });
  }
  if (hours !== undefined && !(Number.isFinite(hours) && hours > 0)) {
    throw new Error(`flexems-plan-card: hours must be a positive number, not ${JSON.stringify(hours)}`);
  }
  if (title !== undefined && typeof title !== "string") throw new Error("flexems-plan-card: title must be text");
  return config;
}

/**
 * The entity ids to chart: the configured ones, or every flexems sensor with a schedule of
 * this home (a community's aggregate and capacity, hundreds of kW, only when configured).
 */
export function chartedEntities(hass, config) {
  if (config.entities) return config.entities.map((e) => (typeof e === "string" ? e : e.entity));
  return Object.keys(hass.states)
    .filter((id) => id.startsWith("sensor.") && hass.entities?.[id]?.platform === "flexems")
    .filter((id) => Array.isArray(hass.states[id].attributes.schedule))
    .filter((id) => !hass.states[id].attributes.community)
    .sort();
}

/** Series from states: name, unit, colour and [{start, end, value}] in epoch milliseconds. */
export function seriesFrom(hass, entityIds, config = {}) {
  const names = Object.fromEntries((config.entities || [])
    .filter((e) => typeof e === "object").map((e) => [e.entity, e.name]));
  return entityIds.flatMap((id, i) => {
    const state = hass.states[id];
    const schedule = state?.attributes?.schedule;
    if (!Array.isArray(schedule)) return [];
    return [{
      entityId: id,
      name: names[id] || state.attributes.friendly_name || id,
      unit: state.attributes.unit_of_measurement || "",
      color: PALETTE[i % PALETTE.length],
      points: schedule.map((p) => ({ start: Date.parse(p.start), end: Date.parse(p.end), value: Number(p.value) })),
      unavailable: state.state === "unavailable",
    }];
  });
}

/** Series grouped by unit into panels, in a fixed order (power, energy, temperature, others). */
export function panels(series) {
  const byUnit = new Map();
  for (const s of series) byUnit.set(s.unit, [...(byUnit.get(s.unit) || []), s]);
  const rank = (unit) => (UNIT_ORDER.includes(unit) ? UNIT_ORDER.indexOf(unit) : UNIT_ORDER.length);
  return [...byUnit.entries()].sort((a, b) => rank(a[0]) - rank(b[0]))
    .map(([unit, members]) => ({ unit, series: members }));
}

/** The value domain: power and energy include zero; temperatures hug their range. */
export function valueDomain(unit, series) {
  const values = series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite);
  if (!values.length) return [0, 1];
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (unit !== "°C") {
    low = Math.min(low, 0);
    high = Math.max(high, 0);
  }
  if (high - low < 1e-9) return [low - 1, high + 1];
  const pad = (high - low) * 0.08;
  return [unit === "°C" || low < 0 ? low - pad : low, high + pad];
}

/** An SVG path drawing a step series; a gap in time lifts the pen. */
export function stepPath(points, x, y) {
  let d = "";
  let lastEnd = null;
  for (const p of points) {
    const x0 = x(p.start).toFixed(1);
    const x1 = x(p.end).toFixed(1);
    const y0 = y(p.value).toFixed(1);
    d += lastEnd === p.start ? `V${y0}H${x1}` : `M${x0},${y0}H${x1}`;
    lastEnd = p.end;
  }
  return d;
}

/** The points within [start, end), cut at its edges. */
export function clip(points, start, end) {
  return points.filter((p) => p.end > start && p.start < end)
    .map((p) => ({ ...p, start: Math.max(p.start, start), end: Math.min(p.end, end) }));
}

/** The value of a series at a moment, or null outside it. */
export function valueAt(series, moment) {
  const point = series.points.find((p) => p.start <= moment && moment < p.end);
  return point ? point.value : null;
}

/**
 * How the user wants times and numbers: Home Assistant's profile settings (`hass.locale`:
 * language, 12/24-hour clock, number format, the browser's or the server's time zone).
 */
export function localeOf(hass) {
  const locale = hass?.locale || {};
  const language = locale.language || hass?.language || undefined;
  const hour12 = { 12: true, 24: false }[locale.time_format];
  const numbers = {
    comma_decimal: "en-US", decimal_comma: "de-DE", space_comma: "fr-FR", none: "en-US",
    system: undefined,
  };
  const timeZone = locale.time_zone === "server" ? hass?.config?.time_zone : undefined;
  return {
    language,
    hour12,
    timeZone,
    numberLocale: locale.number_format in numbers ? numbers[locale.number_format] : language,
    grouping: locale.number_format !== "none",
  };
}

/** The hour of day and minute of a moment in the user's time zone. */
function clockAt(t, locale) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    hour: "numeric", minute: "numeric", hourCycle: "h23", timeZone: locale.timeZone,
  }).formatToParts(new Date(t));
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return [part("hour"), part("minute")];
}

/** Hour ticks at whole local hours: every 1, 2, 3, 6, 12 or 24 hours, so that at most eight fit. */
export function hourTicks(start, end, locale = {}) {
  const hour = 3600e3;
  const step = [1, 2, 3, 6, 12, 24].find((h) => (end - start) / (h * hour) <= 8) || 24;
  const ticks = [];
  const quarter = 900e3; // whole local hours fall on a quarter hour in every time zone
  for (let t = Math.ceil(start / quarter) * quarter; t <= end; t += quarter) {
    const [h, m] = clockAt(t, locale);
    if (m === 0 && h % step === 0) ticks.push(t);
  }
  return ticks;
}

/** A tick's label: the weekday at midnight, else the time on the user's clock (13:00 or 1 PM). */
export function tickLabel(t, locale = {}) {
  const [h] = clockAt(t, locale);
  if (h === 0) {
    return new Date(t).toLocaleDateString(locale.language, { weekday: "short", timeZone: locale.timeZone });
  }
  return new Date(t).toLocaleTimeString(locale.language, {
    hour: "numeric", minute: "2-digit", hour12: locale.hour12, timeZone: locale.timeZone,
  });
}

/** Value ticks at a round step (1, 2, 2.5 or 5 × 10^k) so that three to six fit the domain. */
export function valueTicks(low, high) {
  const span = high - low;
  if (!(span > 0)) return [low];
  const magnitude = 10 ** Math.floor(Math.log10(span / 4));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => span / s <= 5);
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A number in the user's number format. */
export function formatNumber(value, digits, locale = {}) {
  return Number(value).toLocaleString(locale.numberLocale, {
    minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: locale.grouping !== false,
  });
}

const format = (value, unit, locale) => (value === null
  ? "–" : `${formatNumber(value, unit === "°C" ? 1 : 2, locale)} ${unit}`);

/** One panel as SVG: grid, zero line, series, "now" line and axis labels. */
export function panelSvg(panel, { start, end, now, width = 600, height = 150, locale = {} }) {
  const left = 44;
  const right = 8;
  const top = 18; // room for the unit above the axis
  const bottom = 20;
  const [low, high] = valueDomain(panel.unit, panel.series);
  const x = (t) => left + ((t - start) / (end - start)) * (width - left - right);
  const y = (v) => top + ((high - v) / (high - low)) * (height - top - bottom);
  const parts = [];
  for (const t of hourTicks(start, end, locale)) {
    parts.push(`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${height - bottom}"/>`,
      `<text class="tick time" x="${x(t).toFixed(1)}" y="${height - 5}" text-anchor="middle">${escape(tickLabel(t, locale))}</text>`);
  }
  const ticks = valueTicks(low, high);
  const digits = Math.max(0, ...ticks.map((v) => (String(v).split(".")[1] || "").length));
  for (const v of ticks) {
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`,
      `<text class="tick value-tick" x="${left - 4}" y="${(y(v) + 3).toFixed(1)}" text-anchor="end">${escape(formatNumber(v, digits, locale))}</text>`);
  }
  parts.push(`<text class="unit" x="${left - 4}" y="10" text-anchor="end">${escape(panel.unit)}</text>`);
  if (low < 0 && high > 0) {
    parts.push(`<line class="zero" x1="${left}" x2="${width - right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}"/>`);
  }
  for (const s of panel.series) {
    parts.push(`<path class="series" data-entity="${escape(s.entityId)}" stroke="${s.color}" d="${stepPath(s.points, x, y)}"/>`);
  }
  if (now >= start && now <= end) {
    parts.push(`<line class="now" x1="${x(now).toFixed(1)}" x2="${x(now).toFixed(1)}" y1="${top}" y2="${height - bottom}"/>`);
  }
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(panel.unit)} plan">${parts.join("")}</svg>`;
}

const STYLE = `
  ha-card { padding: 12px 16px 8px; }
  .header { display: flex; justify-content: space-between; align-items: baseline; }
  .title { font-size: 1.2em; }
  .status { color: var(--secondary-text-color); font-size: 0.9em; }
  svg { width: 100%; height: auto; display: block; margin-top: 6px; }
  .series { fill: none; stroke-width: 2; }
  .grid { stroke: var(--divider-color, #ddd); stroke-width: 1; }
  .zero { stroke: var(--secondary-text-color, #888); stroke-width: 1; }
  .now { stroke: var(--primary-color, #03a9f4); stroke-width: 1.5; stroke-dasharray: 4 3; }
  .tick, .unit { font-size: 10px; fill: var(--secondary-text-color, #666); }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.9em; margin-top: 4px; }
  .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
  .value { color: var(--secondary-text-color); margin-left: 4px; }
  .empty { color: var(--secondary-text-color); padding: 16px 0; }
  .error { color: var(--error-color, #db4437); padding: 8px 0; white-space: pre-wrap; }
`;

/** The card showing what is wrong with its configuration, in view mode as in the editor. */
export function errorHtml(error) {
  return `<style>${STYLE}</style><ha-card><div class="header"><span class="title">flexems plan</span></div>`
    + `<div class="error" role="alert">${escape(error.message || error)}</div></ha-card>`;
}

/** The plan status as Home Assistant shows it (translated), else its raw state. */
export function statusText(hass, stateObj) {
  if (!stateObj) return "";
  const text = typeof hass.formatEntityState === "function" ? hass.formatEntityState(stateObj) : stateObj.state;
  // The best plan a search found, not proven the best: say how close it is known to be.
  const { proven_optimal: proven, optimality_gap: gap } = stateObj.attributes ?? {};
  return proven === false && typeof gap === "number" ? `${text} (within ${gap} %, not proven)` : text;
}

/** The whole card's HTML for the current states. */
export function cardHtml(hass, config, now = Date.now()) {
  const series = seriesFrom(hass, chartedEntities(hass, config), config);
  const title = escape(config.title ?? "Energy plan");
  const locale = localeOf(hass);
  const status = escape(statusText(hass, config.status_entity ? hass.states[config.status_entity] : null));
  const points = series.flatMap((s) => s.points);
  if (!points.length) {
    return `<style>${STYLE}</style><ha-card><div class="header"><span class="title">${title}</span></div>`
      + `<div class="empty">No plan to show yet: flexems has not planned, or no charted entity has a schedule.</div></ha-card>`;
  }
  const start = Math.min(...points.map((p) => p.start));
  const planEnd = Math.max(...points.map((p) => p.end));
  const end = config.hours ? Math.min(planEnd, Math.max(start, now) + config.hours * 3600e3) : planEnd;
  const shown = series.map((s) => ({ ...s, points: clip(s.points, start, end) }));
  const charts = panels(shown).map((panel) => panelSvg(panel, { start, end, now, locale })).join("");
  const legend = series.map((s) => `<span><span class="swatch" style="background:${s.color}"></span>`
    + `${escape(s.name)}<span class="value">${escape(format(valueAt(s, now), s.unit, locale))}</span></span>`).join("");
  return `<style>${STYLE}</style><ha-card><div class="header"><span class="title">${title}</span>`
    + `<span class="status">${status}</span></div>${charts}<div class="legend">${legend}</div></ha-card>`;
}

if (typeof customElements !== "undefined" && !customElements.get(CARD_TYPE)) {
  class FlexemsPlanCard extends HTMLElement {
    setConfig(config) {
      // A wrong option is shown on the card itself: Home Assistant shows thrown configuration
      // errors in the dashboard editor only, so in view mode the card would just be missing.
      try {
        this._config = checkConfig(config);
        this._error = null;
      } catch (error) {
        this._config = null;
        this._error = error;
      }
      this._render();
    }

    set hass(hass) {
      const config = this._config || {};
      const watched = [...chartedEntities(hass, config), config.status_entity].filter(Boolean);
      // Also when the charted entities themselves change: flexems' sensors join the entity
      // registry after their states exist (a new entry, a new asset).
      const key = watched.join(",");
      const changed = !this._hass || hass.locale !== this._hass.locale || key !== this._watched
        || watched.some((id) => hass.states[id] !== this._hass.states[id]);
      this._hass = hass;
      this._watched = key;
      if (changed) this._render();
    }

    connectedCallback() {
      // The "now" line and the values now move on with time, not only with new states.
      this._timer = setInterval(() => this._render(), 60e3);
    }

    disconnectedCallback() {
      clearInterval(this._timer);
    }

    _render() {
      if (!this._error && (!this._hass || !this._config)) return;
      if (!this.shadowRoot) this.attachShadow({ mode: "open" });
      this.shadowRoot.innerHTML = this._error ? errorHtml(this._error) : cardHtml(this._hass, this._config);
    }

    getCardSize() {
      return 2 + 3 * panels(seriesFrom(this._hass || { states: {} }, chartedEntities(this._hass || { states: {} }, this._config || {}))).length;
    }

    static getStubConfig() {
      return { title: "Energy plan", status_entity: "sensor.flexems_planner_plan_status" };
    }
  }
  customElements.define(CARD_TYPE, FlexemsPlanCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: CARD_TYPE,
    name: "flexems plan",
    description: "The flexems plan: planned power, energy stored and temperatures, with now.",
    documentationURL: "https://github.com/flexems/flexems#the-plan-card",
  });
}
