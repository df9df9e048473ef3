"""A typed client for the flexems add-on's API (v1), on Home Assistant's shared aiohttp session.

The boundary of the integration: everything the add-on says is turned into these types or
these exceptions, so the rest of the integration holds only Home Assistant glue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

REQUEST_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.5
PLAN_TIMEOUT_S = 300.0  # a queued plan not done by then is given up (the add-on is stuck)
PLAN_WAIT_S = 20.0  # per request for a site's plan (within REQUEST_TIMEOUT_S)
# The add-on pings every 50 s; a connection silent for longer than this is dead.
EVENTS_HEARTBEAT_S = 55.0


class FlexEmsError(Exception):
    """Any failure talking to the add-on."""


class FlexEmsConnectionError(FlexEmsError):
    """The add-on cannot be reached, or answered with a server error."""


class FlexEmsAuthError(FlexEmsError):
    """The add-on refused the token."""


class FlexEmsProblemError(FlexEmsError):
    """The add-on refused the problem: `code`, `message` and the `path` of the field."""

    def __init__(self, code: str, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.code = code
        self.message = message
        self.path = path


@dataclass(frozen=True)
class AddonVersion:
    version: str
    api: str
    highs: str
    instance_id: str | None  # made once per add-on data directory; None from add-ons < 0.2
    # Where the add-on moved a corrupt job store at its start (None: it had no need to).
    store_recovered_to: str | None = None


@dataclass(frozen=True)
class SitePlan:
    """A site's plan as the add-on made it: the problem revision it answers, and when."""

    revision: int
    plan: dict[str, Any]
    planned_at: str
    s2_devices: list[dict[str, Any]]  # the site's S2 devices, as the add-on knows them


class FlexEmsClient:
    """Talks to one add-on at `url` (e.g. http://local-flexems:8099)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str = "") -> None:
        self._session = session
        self.url = url.rstrip("/")
        self._token = token

    async def version(self) -> AddonVersion:
        body = await self._request("GET", "/api/v1/version")
        recovered = body.get("store_recovered") or {}
        return AddonVersion(
            body["version"],
            body["api"],
            body["highs"],
            body.get("instance_id") or None,
            recovered.get("moved_to"),
        )

    async def schedule(self, problem: dict[str, Any], wait_s: float = 10.0) -> dict[str, Any]:
        """The plan for a site problem; polls if the add-on answers with a queued job."""
        job = await self._request("POST", f"/api/v1/schedules?wait={wait_s:g}", problem)
        try:
            async with asyncio.timeout(PLAN_TIMEOUT_S):
                while job["status"] in ("queued", "running"):
                    await asyncio.sleep(POLL_INTERVAL_S)
                    job = await self._request("GET", f"/api/v1/schedules/{job['id']}")
        except TimeoutError as late:
            raise FlexEmsConnectionError(
                f"the add-on did not finish the plan within {PLAN_TIMEOUT_S:g} s"
            ) from late
        if job["status"] != "finished":
            error = job.get("error") or {}
            raise FlexEmsProblemError(
                error.get("code", job["status"]),
                error.get("message", f"the plan was {job['status']}"),
                error.get("path", ""),
            )
        plan: dict[str, Any] = job["plan"]
        return plan

    async def put_site(self, site: str, problem: dict[str, Any]) -> int:
        """Keep the site's problem in the add-on (which plans it and pushes the plan); returns
        the problem's revision."""
        body = await self._request("PUT", f"/api/v1/sites/{site}", problem)
        return int(body["revision"])

    async def site_plan(self, site: str, revision: int) -> SitePlan:
        """The plan of the site's problem `revision` (or a later one), waiting while the
        add-on makes it. Raises FlexEmsProblemError when its planning failed."""
        try:
            async with asyncio.timeout(PLAN_TIMEOUT_S):
                while True:
                    body = await self._request(
                        "GET",
                        f"/api/v1/sites/{site}/plan?revision={revision}&wait={PLAN_WAIT_S:g}",
                    )
                    if "plan" in body:  # else 202: still being made
                        return SitePlan(
                            body["revision"], body["plan"], body["planned_at"],
                            body.get("s2_devices", []),
                        )  # fmt: skip
        except TimeoutError as late:
            raise FlexEmsConnectionError(
                f"the add-on did not finish the plan within {PLAN_TIMEOUT_S:g} s"
            ) from late

    async def pair_s2_device(self, label: str, site: str) -> dict[str, Any]:
        """A one-time pairing token for an S2 device of `site`: `token`, `url`, `expires_at`."""
        return await self._request("POST", "/api/v1/s2/pairings", {"site": site, "label": label})

    async def site_community(self, site: str) -> dict[str, Any] | None:
        """How the site takes part in a community (round, status, signals, the host's
        report), or None when it takes part in none."""
        try:
            return await self._request("GET", f"/api/v1/sites/{site}/community")
        except FlexEmsProblemError as error:
            if error.code == "not_found":
                return None
            raise

    async def join_community(
        self, site: str, host: str, community: str, invite: str, name: str
    ) -> dict[str, Any]:
        """Make the site take part: the add-on joins the host with the invite."""
        body = {"host": host, "community": community, "invite": invite, "name": name}
        return await self._request("PUT", f"/api/v1/sites/{site}/community", body)

    async def leave_community(self, site: str) -> None:
        try:
            await self._request("DELETE", f"/api/v1/sites/{site}/community")
        except FlexEmsProblemError as error:
            if error.code != "not_found":
                raise

    async def host_community(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Host a community on this add-on: its id and overview."""
        return await self._request("POST", "/api/v1/communities", settings)

    async def community(self, community: str) -> dict[str, Any] | None:
        """A hosted community's overview (members, round, aggregate, breaches), or None."""
        try:
            return await self._request("GET", f"/api/v1/communities/{community}")
        except FlexEmsProblemError as error:
            if error.code == "not_found":
                return None
            raise

    async def community_invite(self, community: str) -> dict[str, Any]:
        """A one-time invite code for a hosted community: `invite`, `expires_at`."""
        return await self._request("POST", f"/api/v1/communities/{community}/invites", {})

    async def stop_hosting(self, community: str) -> None:
        try:
            await self._request("DELETE", f"/api/v1/communities/{community}")
        except FlexEmsProblemError as error:
            if error.code != "not_found":
                raise

    def site_events(self, site: str) -> AsyncIterator[dict[str, Any]]:
        """The site's events as the add-on pushes them (its latest plan first); ends when the
        connection does. Raises FlexEmsAuthError or FlexEmsConnectionError."""
        return self._events(f"/api/v1/sites/{site}/events")

    def community_events(self, community: str) -> AsyncIterator[dict[str, Any]]:
        """The host's view of a community it hosts, at once and as it changes (`view` None: no
        longer hosted); as `site_events`."""
        return self._events(f"/api/v1/communities/{community}/events")

    async def _events(self, path: str) -> AsyncIterator[dict[str, Any]]:
        url = self.url.replace("http", "ws", 1) + path
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with self._session.ws_connect(
                url, headers=headers, heartbeat=EVENTS_HEARTBEAT_S
            ) as ws:
                async for message in ws:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        break
                    event: dict[str, Any] = message.json()
                    yield event
        except aiohttp.WSServerHandshakeError as error:
            if error.status == 401:
                raise FlexEmsAuthError("the add-on refused the token") from error
            raise FlexEmsConnectionError(f"the add-on's events channel: {error}") from error
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise FlexEmsConnectionError(
                f"cannot reach the add-on at {self.url}: {error}"
            ) from error

    async def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with self._session.request(
                method,
                self.url + path,
                json=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                if response.status == 401:
                    raise FlexEmsAuthError("the add-on refused the token")
                if response.status >= 500:
                    raise FlexEmsConnectionError(f"the add-on failed ({response.status})")
                payload: dict[str, Any] = await response.json(content_type=None) or {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise FlexEmsConnectionError(
                f"cannot reach the add-on at {self.url}: {error}"
            ) from error
        if response.status >= 400:
            detail = payload.get("error", {})
            raise FlexEmsProblemError(
                detail.get("code", "error"),
                detail.get("message", str(payload)),
                detail.get("path", ""),
            )
        return payload
