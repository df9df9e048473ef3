from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """Hosts and members talk over loopback; Home Assistant's plugin blocks sockets."""
