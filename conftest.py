"""Import our integration first: pytest-homeassistant-custom-component's `hass` fixture mounts a
`custom_components` package of its own, which would hide ours if it came first."""

import custom_components.flexems  # noqa: F401
