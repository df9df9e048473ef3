"""Selectors shared by the entry's flows and the assets' flows."""

from __future__ import annotations

from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

TEMPERATURE = EntitySelector(EntitySelectorConfig(domain="sensor", device_class="temperature"))
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
SENSOR = EntitySelector(EntitySelectorConfig(domain="sensor"))


def number(low: float, high: float, step: float, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def choice(translation_key: str, options: list[str]) -> SelectSelector:
    """A dropdown whose option labels are translated under `selector.<translation_key>`."""
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=translation_key, mode=SelectSelectorMode.DROPDOWN
        )
    )
