"""Server-rendered pages: `/` (the sites, communities and latest jobs) and `/docs` (the API,
from OpenAPI).

No build step and no scripts: plain HTML and an inline SVG, so they work under HA ingress,
whose base path arrives in the `X-Ingress-Path` header.
"""

from __future__ import annotations

import json
from html import escape

from aiohttp import web

from .. import __version__
from ..sites.store import SiteRecord
from ..store import JobRecord
from .auth import TOKEN_KEY
from .ingress import INGRESS_PROXY, path_prefix
from .openapi import openapi_document
from .page_sections import (
    communities_section,
    latest_site_plan,
    money,
    site_records,
    sites_section,
    status_badge,
)
from .schedules import QUEUE_KEY

routes = web.RouteTableDef()

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem}
body{color:#1c2430}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.8rem 0 .6rem}
.muted{color:#667085}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e4e7ec;vertical-align:top}
th{font-weight:600;color:#475467}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{padding:.1rem .45rem;border-radius:.6rem;font-size:.85em}
.finished{background:#dcfae6}.failed{background:#fee4e2}.running,.queued{background:#fef0c7}
.cancelled{background:#eaecf0}.infeasible,.relaxed{background:#fee4e2}
code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f8fa;padding:.8rem;overflow:auto;border-radius:.4rem}
svg{background:#fcfcfd;border:1px solid #e4e7ec;border-radius:.4rem}
.method{font-weight:700;text-transform:uppercase;margin-right:.4rem}
.error{color:#b42318}form{margin:1rem 0}input,button{font:inherit;padding:.3rem .5rem}
"""


def page(title: str, body: str) -> web.Response:
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return web.Response(text=html, content_type="text/html")


def net_power_chart(values: list[float], width: int = 640, height: int = 140) -> str:
    """Bars of planned net power: import up (blue), export down (green), zero line."""
    if not values:
        return ""
    axis = 56  # room for the kW labels left of the bars
    pad = 6
    top = max(*values, 0.0)
    bottom = min(*values, 0.0)
    span = (top - bottom) or 1.0
    scale = (height - 2 * pad) / span
    zero_y = pad + top * scale
    bar = (width - axis) / len(values)
    bars = []
    for i, value in enumerate(values):
        size = abs(value) * scale
        y = zero_y - size if value > 0 else zero_y
        colour = "#2e90fa" if value > 0 else "#32d583"
        bars.append(
            f"<rect x='{axis + i * bar:.2f}' y='{y:.2f}' width='{max(bar - 0.4, 0.6):.2f}' "
            f"height='{size:.2f}' fill='{colour}'/>"
        )
    label = "font-size='11' fill='#475467' text-anchor='end'"
    return (
        f"<svg role='img' aria-label='planned net power' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>{''.join(bars)}"
        f"<line x1='{axis}' x2='{width}' y1='{zero_y:.2f}' y2='{zero_y:.2f}' stroke='#98a2b3'/>"
        f"<text x='{axis - 6}' y='{pad + 9}' {label}>{top:.1f} kW</text>"
        f"<text x='{axis - 6}' y='{zero_y + 4:.2f}' {label}>0</text>"
        f"<text x='{axis - 6}' y='{height - pad}' {label}>{bottom:.1f} kW</text></svg>"
    )


def _job_row(record: JobRecord) -> str:
    meta = record.metadata()
    summary = record.summary or {}
    if summary:
        devices = escape(", ".join(summary.get("devices", [])))
        plan = (
            f"{status_badge(str(summary.get('status')))}, {summary.get('steps')} steps of "
            f"{escape(str(summary.get('resolution')))}, {devices}"
        )
        # An infeasible problem's fallback cost is mostly breach penalties: not a price to show.
        cost = "—" if summary.get("status") == "infeasible" else money(summary)
    else:
        plan = escape(record.error["message"]) if record.error else ""
        cost = ""
    duration = "" if meta["duration_s"] is None else f"{meta['duration_s'] * 1000:.0f} ms"
    return (
        f"<tr><td><code>{escape(record.id)}</code></td><td>{escape(meta['created_at'] or '')}</td>"
        f"<td class='num'>{duration}</td>"
        f"<td><span class='status {record.status.value}'>{record.status.value}</span></td>"
        f"<td>{plan}</td><td class='num'>{cost}</td></tr>"
    )


def _token_for_scripts(request: web.Request) -> str:
    """Through ingress (Home Assistant signed the user in), the API token for scripts."""
    token = request.app[TOKEN_KEY]
    if request.remote != INGRESS_PROXY or not token:
        return ""
    return (
        "<p class='muted'>API token for scripts and the flexems integration: "
        f"<code>{escape(token)}</code></p>"
    )


def _sign_out(request: web.Request) -> str:
    """A sign-out button for a person signed in with a session cookie."""
    if "flexems_session" not in request.cookies:
        return ""
    return (
        f"<form method='post' action='{escape(path_prefix(request))}/logout'>"
        "<button type='submit'>Sign out</button></form>"
    )


def _chart(sites: list[SiteRecord], records: list[JobRecord]) -> str:
    """Net power of the latest plan: a site's (as Home Assistant keeps it) or else a job's."""
    site = latest_site_plan(sites)
    if site is not None and site.plan is not None:
        source = f"site <code>{escape(site.id)}</code>, revision {site.plan_revision}"
        start, values = site.plan["start"], site.plan["site"]["net_power_kw"][:672]
    else:
        job = next((r for r in records if r.summary), None)
        if job is None or job.summary is None:
            return ""
        source = f"job <code>{escape(job.id)}</code>"
        start, values = job.summary.get("start"), job.summary.get("net_power_kw", [])
    return (
        "<h2>Latest plan: net power at the grid connection</h2>"
        f"<p class='muted'>{source}, from {escape(str(start))}; up is import, down is export</p>"
        + net_power_chart(values)
    )


@routes.get("/")
async def status_page(request: web.Request) -> web.Response:
    queue = request.app[QUEUE_KEY]
    records = queue.store.latest(20)
    base = path_prefix(request)
    sites = site_records(request.app)
    chart = _chart(sites, records)
    rows = "".join(_job_row(r) for r in records) or (
        "<tr><td colspan='6' class='muted'>No one-shot jobs yet: POST a problem to "
        "<code>/api/v1/schedules</code>.</td></tr>"
    )
    body = (
        f"<h1>flexems optimizer</h1><p class='muted'>version {__version__} · "
        f"{queue.settings.workers} workers · {queue.pending} jobs pending · "
        f"<a href='{base}/docs'>API docs</a> · <a href='{base}/api/v1/openapi.json'>OpenAPI</a>"
        f"</p>{_sign_out(request)}{_token_for_scripts(request)}"
        f"{chart}{sites_section(request.app, sites)}{communities_section(request.app)}"
        f"<h2>Latest one-shot jobs</h2><table><thead><tr><th>job</th><th>created (UTC)</th>"
        f"<th>duration</th><th>status</th><th>plan</th><th>total cost</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return page("flexems optimizer", body)


@routes.get("/docs")
async def docs_page(request: web.Request) -> web.Response:
    document = openapi_document()
    sections = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = "".join(
                f"<li><code>{escape(p['name'])}</code> ({p['in']}): "
                f"{escape(p.get('description', json.dumps(p['schema'])))}</li>"
                for p in operation.get("parameters", [])
            )
            responses = "".join(
                f"<tr><td class='num'>{code}</td><td>{escape(answer['description'])}</td></tr>"
                for code, answer in operation["responses"].items()
            )
            auth = "no auth" if operation.get("security") == [] else "bearer token"
            sections.append(
                f"<h2><span class='method'>{method}</span><code>{escape(path)}</code></h2>"
                f"<p>{escape(operation['summary'])} <span class='muted'>({auth})</span></p>"
                + (f"<ul>{parameters}</ul>" if parameters else "")
                + f"<table><tbody>{responses}</tbody></table>"
            )
    schemas = escape(json.dumps(document["components"]["schemas"], indent=2))
    body = (
        f"<h1>flexems optimizer API {escape(document['info']['version'])}</h1>"
        f"<p>{escape(document['info']['description'])}</p>"
        f"<p><a href='{path_prefix(request)}/api/v1/openapi.json'>openapi.json</a></p>"
        + "".join(sections)
        + f"<h2>Schemas</h2><pre>{schemas}</pre>"
    )
    return page("flexems optimizer API", body)


@routes.get("/api/v1/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
