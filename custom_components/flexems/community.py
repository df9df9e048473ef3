"""The home's communities as Home Assistant sees them: what the add-on says of the home's
membership (round, status, signals, the host's report; pushed on the site's events channel as
it changes) and of the communities it hosts (members, aggregate; pushed on each community's
events channel), both also polled; and leaving or stopping hosting when their entries go."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .channels import follow, task_name
from .client import FlexEmsClient, FlexEmsError
from .community_flows import (
    CONF_COMMUNITY,
    CONF_ROLE,
    SUBENTRY_COMMUNITY,
    SUBENTRY_COMMUNITY_HOST,
)
from .const import LOGGER
from .coordinator import SITE, FlexEmsConfigEntry

# Rounds take seconds; what changes for a person (the peak, the signal) changes per step. Both
# the home's membership and a hosted community's view are pushed as they change: the poll only
# catches what a dropped channel missed.
POLL_INTERVAL: Final = timedelta(seconds=30)


@dataclass
class CommunityData:
    membership: dict[str, Any] | None = None  # the site's membership, with the host's report
    hosted: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by community id


class CommunityCoordinator(DataUpdateCoordinator[CommunityData]):
    config_entry: FlexEmsConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: FlexEmsConfigEntry, client: FlexEmsClient
    ) -> None:
        super().__init__(
            hass, LOGGER, config_entry=entry, name="flexems communities",
            update_interval=POLL_INTERVAL,
        )  # fmt: skip
        self.client = client

    def follow_hosted(self) -> None:
        """Follow each hosted community's events channel while the entry is loaded."""
        for sub in self.config_entry.subentries.values():
            if sub.subentry_type == SUBENTRY_COMMUNITY_HOST:
                community: str = sub.data[CONF_COMMUNITY]
                self.config_entry.async_create_background_task(
                    self.hass,
                    follow(partial(self.client.community_events, community), self._take_view),
                    task_name(f"community {community}"),
                )

    def _take_view(self, event: dict[str, Any]) -> None:
        """The add-on's view of a community it hosts (None: no longer hosted)."""
        if self.data is not None and event.get("type") == "community":
            hosted = {**self.data.hosted, event["community"]: event["view"]}
            self.async_set_updated_data(replace(self.data, hosted=hosted))

    def take_membership(self, membership: dict[str, Any] | None) -> None:
        """The add-on's word on the home's membership, from its events channel (None: the home
        left): the sensors follow at once instead of at the next poll."""
        if self.data is not None:
            self.async_set_updated_data(replace(self.data, membership=membership))

    async def _async_update_data(self) -> CommunityData:
        subentries = self.config_entry.subentries.values()
        data = CommunityData()
        try:
            if any(sub.subentry_type == SUBENTRY_COMMUNITY for sub in subentries):
                data.membership = await self.client.site_community(SITE)
            for sub in subentries:
                if sub.subentry_type == SUBENTRY_COMMUNITY_HOST:
                    community = sub.data[CONF_COMMUNITY]
                    data.hosted[community] = await self.client.community(community)
        except FlexEmsError as error:
            raise UpdateFailed(str(error)) from error
        return data


def has_communities(entry: FlexEmsConfigEntry) -> bool:
    kinds = (SUBENTRY_COMMUNITY, SUBENTRY_COMMUNITY_HOST)
    return any(sub.subentry_type in kinds for sub in entry.subentries.values())


async def async_forget_removed(
    client: FlexEmsClient, before: dict[str, ConfigSubentry], after: dict[str, ConfigSubentry]
) -> None:
    """A community's entry was removed: the home leaves it, or the add-on stops hosting it.
    The add-on may be away: then the host sees the home go stale, and the add-on says so."""
    for key, sub in before.items():
        if key in after or CONF_ROLE not in sub.data:
            continue
        try:
            if sub.data[CONF_ROLE] == "member":
                await client.leave_community(SITE)
            else:
                await client.stop_hosting(sub.data[CONF_COMMUNITY])
        except FlexEmsError as error:
            LOGGER.warning("Could not tell the add-on that %s was removed: %s", sub.title, error)


def series_schedule(
    start: str, resolution_s: float, values: list[float | None]
) -> list[dict[str, Any]]:
    """[{start, end, value}] as the plan card draws them: equal values in a row joined."""
    first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    step = timedelta(seconds=resolution_s)
    items: list[dict[str, Any]] = []
    for i, value in enumerate(values):
        begin, end = first + i * step, first + (i + 1) * step
        if items and items[-1]["value"] == value:
            items[-1]["end"] = end.isoformat()
        else:
            items.append({"start": begin.isoformat(), "end": end.isoformat(), "value": value})
    return [item for item in items if item["value"] is not None]


def value_now(start: str, resolution_s: float, values: list[Any], now: datetime) -> Any:
    """The value of a series at `now` (None outside it)."""
    first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    index = int((now - first).total_seconds() // resolution_s)
    return values[index] if 0 <= index < len(values) else None
