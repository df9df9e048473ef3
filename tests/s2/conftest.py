from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_socket

from ..api.server import Server, clear_of_a_step_boundary


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """These tests talk to the real service over loopback; Home Assistant's plugin blocks
    sockets."""


@pytest.fixture(autouse=True)
def _clear_of_a_step_boundary() -> None:
    """These sessions are planned from the current quarter hour and check its steps."""
    clear_of_a_step_boundary()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real service for a module's sessions; no traceback may reach its log."""
    pytest_socket.enable_socket()
    running = Server(tmp_path_factory.mktemp("s2"))
    yield running
    log = running.stop()
    assert "Traceback" not in log, log[-3000:]
