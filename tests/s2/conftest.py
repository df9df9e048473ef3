from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """These tests talk to the real service over loopback; Home Assistant's plugin blocks
    sockets."""
