"""Input that must give a clear 4xx, never a 500: each case as it was found, sent as raw bytes
to the real server."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from .server import TOKEN, Server
from .test_service import small_problem


def send(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, Any] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One request with exactly these bytes and headers (putheader takes bytes as they are)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(method, path)
        sent = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        sent.update(headers or {})
        for name, value in sent.items():
            if value is not None:
                connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data.decode(errors="replace")
        return response.status, dict(response.getheaders()), parsed
    finally:
        connection.close()


def code_of(reply: tuple[int, dict[str, str], Any]) -> tuple[int, str]:
    status, _, body = reply
    return status, body["error"]["code"]


def problem_bytes(**change: Any) -> bytes:
    return json.dumps({**small_problem(), **change}).encode()


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"start": "\xff\xfe"}', {}, 400, "invalid_encoding"),
        (problem_bytes(), {"Content-Type": "application/json; charset=bogus"}, 415,
         "unsupported_charset"),
        (b'{"start": ' + b"9" * 5000 + b"}", {}, 400, "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, {}, 400, "invalid_json"),
        (b'{"start": 1, "start": 2}', {}, 400, "duplicate_key"),
    ],
    ids=["not-utf-8", "bogus-charset", "huge-integer", "deep-nesting", "duplicate-keys"],
)  # fmt: skip
def test_bodies_that_cannot_be_read(
    server: Server, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    assert code_of(send(server, "POST", "/api/v1/schedules", body, headers)) == (status, code)


def test_a_limit_that_is_a_superscript_digit(server: Server) -> None:
    # "²".isdigit() is True in Python, int("²") is not.
    reply = send(server, "GET", "/api/v1/schedules?limit=%C2%B2")
    assert code_of(reply) == (400, "invalid_limit")


def test_an_authorization_header_that_is_not_utf_8(server: Server) -> None:
    reply = send(server, "GET", "/api/v1/schedules", headers={"Authorization": b"Bearer \xff\xfe"})
    assert code_of(reply) == (401, "invalid_token")


def test_a_lone_surrogate_in_a_name_is_refused_and_the_status_page_lives(server: Server) -> None:
    body = small_problem()
    body["flex-model"][0]["name"] = "bat\ud800tery"
    data = json.dumps(body).encode()  # ASCII: the surrogate travels as \\ud800
    status, _, reply = send(server, "POST", "/api/v1/schedules", data)
    assert (status, reply["error"]["code"]) == (422, "invalid_text")
    assert reply["error"]["path"] == "flex-model[0].name"
    assert server.request("GET", "/").status == 200


def test_long_text_is_refused_where_it_is(server: Server) -> None:
    body = small_problem()
    body["flex-model"][0]["name"] = "x" * 7_000_000  # a 7 MB name made a 42 MB plan
    status, _, reply = send(server, "POST", "/api/v1/schedules", json.dumps(body).encode())
    assert (status, reply["error"]["code"], reply["error"]["path"]) == (
        422, "text_too_long", "flex-model[0].name",
    )  # fmt: skip


def test_too_many_devices_for_the_steps_is_refused_before_solving(server: Server) -> None:
    body = small_problem()
    device = body["flex-model"][0]
    body.pop("duration", None)
    body["end"] = "2026-12-31T00:00:00+00:00"  # hourly: about 5,000 steps
    body["flex-model"] = [{**device, "name": f"battery {i}"} for i in range(90)]
    status, _, reply = send(server, "POST", "/api/v1/schedules", json.dumps(body).encode())
    assert (status, reply["error"]["code"]) == (422, "too_large")


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("POST", "/api/v1/schedules")
        connection.putheader("Authorization", f"Bearer {TOKEN}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(64 * 1024 * 1024))
        connection.endheaders()  # and no body: the answer comes before it
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "body_too_large"
    finally:
        connection.close()


def test_405_says_which_methods_are_allowed(server: Server) -> None:
    status, headers, body = send(server, "PUT", "/api/v1/schedules", b"{}")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    assert set(headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
