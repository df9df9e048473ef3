"""A standing check: schemathesis drives the real server from its own OpenAPI document. Every
answer must be no 5xx and match the document. `make test` runs a short, repeatable search;
`make fuzz` a longer one with fresh examples (FLEXEMS_FUZZ_EXAMPLES, default 300 per operation).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import pytest_socket
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .server import TOKEN, Server

EXAMPLES = int(os.environ.get("FLEXEMS_FUZZ_EXAMPLES", "15"))
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Short solves: a fuzzer's problems may be large; they must fail fast, not hang the run.
    pytest_socket.enable_socket()
    running = Server(tmp_path_factory.mktemp("fuzz"), "--solve-time-limit", "2")
    yield running
    log = running.stop()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def api(fuzzed_server: Server) -> schemathesis.schemas.BaseSchema:
    pytest_socket.enable_socket()
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.base}/api/v1/openapi.json")
    return schema.exclude(method="DELETE")  # cancelling is covered by its own tests


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 15,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_server_error_and_all_match_the_document(
    case: schemathesis.Case, fuzzed_server: Server
) -> None:
    case.call_and_validate(
        base_url=fuzzed_server.base,
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=CHECKS,
        timeout=30,
    )
