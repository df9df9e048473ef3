"""The status page's sections for what the add-on keeps: the sites (how Home Assistant uses
the add-on since 0.3), with their latest plan, S2 devices and community, and the communities
it hosts. Plain HTML, like the rest of the page."""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from ..sites.store import SiteRecord
from ..store import iso_time
from .communities import HOST_KEY
from .site_community import MEMBERSHIPS_KEY
from .sites import PLANNER_KEY


def status_badge(status: str) -> str:
    """Anything but optimal deserves a look, not a plain word."""
    text = escape(status)
    return text if status == "optimal" else f"<span class='status {text}'>{text}</span>"


def money(costs: dict[str, Any]) -> str:
    currency = escape(str(costs.get("currency", "EUR")))
    text = f"{costs.get('total_eur', 0):.2f} {currency}"
    saving = costs.get("savings_eur")
    return text if saving is None else f"{text} (saves {saving:.2f})"


def site_records(app: web.Application) -> list[SiteRecord]:
    store = app[PLANNER_KEY].store
    return [record for site in store.ids() if (record := store.get(site)) is not None]


def latest_site_plan(records: list[SiteRecord]) -> SiteRecord | None:
    """The most recently planned site, for the page's chart."""
    planned = [record for record in records if record.plan is not None]
    return max(planned, key=lambda record: record.planned_at or 0.0, default=None)


def _site_row(app: web.Application, record: SiteRecord) -> str:
    plan = record.plan
    if plan is None:
        planned = "<span class='muted'>not planned yet</span>"
        cost = ""
    else:
        planned = (
            f"{status_badge(str(plan['status']))}, {len(plan['timestamps'])} steps of "
            f"{escape(str(plan['resolution']))} from {escape(str(plan['start']))}, "
            f"{escape(', '.join(sorted(plan['devices'])))}"
        )
        cost = "—" if plan["status"] == "infeasible" else money(plan["costs"])
    if record.error is not None:
        planned += (
            f"<br><span class='error'>revision {record.failed_revision} failed: "
            f"{escape(str(record.error.get('message')))}</span>"
        )
    devices = app[PLANNER_KEY].of_site(record.id)
    connected = sum(device.connected for device in devices)
    s2 = f"{connected} of {len(devices)} connected" if devices else "—"
    membership = app[MEMBERSHIPS_KEY].store.get(record.id)
    if membership is None:
        community = "—"
    else:
        progress = app[MEMBERSHIPS_KEY].progress.get(record.id)
        state = "" if progress is None else f", round {progress.round}: {progress.status}"
        community = f"{escape(membership.community)}{escape(state)}"
    return (
        f"<tr><td><code>{escape(record.id)}</code></td><td>{record.revision}</td>"
        f"<td>{escape(iso_time(record.planned_at) or '—')}</td><td>{planned}</td>"
        f"<td class='num'>{cost}</td><td>{s2}</td><td>{community}</td></tr>"
    )


def sites_section(app: web.Application, records: list[SiteRecord]) -> str:
    rows = "".join(_site_row(app, record) for record in records) or (
        "<tr><td colspan='7' class='muted'>No sites yet: the flexems integration keeps its "
        "home here (<code>PUT /api/v1/sites/{site}</code>).</td></tr>"
    )
    return (
        "<h2>Sites</h2><table><thead><tr><th>site</th><th>revision</th>"
        "<th>planned (UTC)</th><th>latest plan</th><th>total cost</th><th>S2 devices</th>"
        f"<th>community</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def communities_section(app: web.Application) -> str:
    """Only when the add-on hosts a community."""
    host = app[HOST_KEY]
    rows = []
    for community in host.store.ids():
        overview = host.overview(community)
        stale = sum(member["stale"] for member in overview["members"])
        rows.append(
            f"<tr><td><code>{escape(community)}</code></td><td>{escape(overview['name'])}</td>"
            f"<td class='num'>{len(overview['members'])} ({stale} stale)</td>"
            f"<td class='num'>{overview['round']}</td><td>{escape(overview['status'])}</td>"
            f"<td class='num'>{len(overview['breaches'])}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<h2>Communities hosted</h2><table><thead><tr><th>community</th><th>name</th>"
        "<th>members</th><th>round</th><th>status</th><th>steps over capacity</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )
