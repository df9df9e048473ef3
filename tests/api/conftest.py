from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket

from .server import Server


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """These tests talk to a real server over loopback; Home Assistant's plugin blocks sockets."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real service for the module's read-mostly tests."""
    pytest_socket.enable_socket()
    running = Server(tmp_path_factory.mktemp("data"))
    yield running
    running.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
