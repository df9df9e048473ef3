"""Import our integration first: pytest-homeassistant-custom-component's `hass` fixture mounts a
`custom_components` package of its own, which would hide ours if it came first."""

from hypothesis import settings

import custom_components.flexems  # noqa: F401

# `make test` (and so CI) draws the same property-test examples every run, so a red run always
# names a real change; `make fuzz` searches afresh and keeps what it finds in .hypothesis/.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", print_blob=True)
