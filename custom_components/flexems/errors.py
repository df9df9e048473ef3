"""The one error of reading Home Assistant's inputs: which input, and what is wrong with it."""

from __future__ import annotations

# Each cause, and what it says in English for the log (the user reads the translated
# `missing_input_<cause>` texts, with the same placeholders).
CAUSES = {
    "unavailable": "is unavailable",
    "not_a_number": "has state {state}, not a number",
    "no_price_list": "has no price list in its attribute {attribute}",
    "price_without_start": "has no start time in price {index}",
    "price_without_value": "has no value in price {index}",
    "price_not_a_number": "has {value} as price {index}",
    "no_prices_ahead": "has no prices beyond the current step",
    "not_set_up": "is not set up",
    "prices_failed": "did not give prices",
    "no_prices_for_area": "has no prices for area {area}",
    "no_prices_today": "has no prices for today",
    "no_solar_forecast": "has no solar forecast",
    "no_solar_forecast_chosen": "has no solar forecast chosen, nor one in the energy dashboard",
    "needs_recorder": "needs the recorder for its history",
    "no_history": "has no recorded history yet",
    "weather_failed": "gave no hourly forecast",
    "no_hourly_temperature": "has no hourly temperature forecast",
}


class MissingInputError(Exception):
    """An input the problem needs (an entity, an integration) is missing or unusable.

    `cause` is a key of CAUSES; `details` fill its placeholders (a state, an attribute, ...).
    """

    def __init__(self, entity_id: str, cause: str, **details: str) -> None:
        self.entity_id = entity_id
        self.cause = cause
        self.details = details
        self.reason = CAUSES[cause].format(**details)
        super().__init__(f"{entity_id} {self.reason}")

    @property
    def translation_key(self) -> str:
        return f"missing_input_{self.cause}"

    @property
    def placeholders(self) -> dict[str, str]:
        return {"entity_id": self.entity_id, **self.details}
