"""The OpenAPI document matches the real routes and responses; the pages render."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from flexems_optimizer.api.app import ServiceConfig, create_app

from .server import Server
from .test_service import small_problem


def test_the_document_is_valid_openapi_3_1(server: Server) -> None:
    reply = server.request("GET", "/api/v1/openapi.json", token="")
    assert reply.status == 200
    validate(reply.body)
    assert reply.body["openapi"] == "3.1.0"


def test_the_document_lists_exactly_the_real_routes(tmp_path: Path, server: Server) -> None:
    app = create_app(ServiceConfig(data_dir=tmp_path))
    real = {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    document = server.request("GET", "/api/v1/openapi.json").body
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == real


def _validator(document: dict[str, Any], schema: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, resolving refs inside the document."""
    root = {**document, "$ref": f"#/components/schemas/{schema}"}
    return jsonschema.Draft202012Validator(root)


def test_real_responses_match_their_schemas(server: Server) -> None:
    document = server.request("GET", "/api/v1/openapi.json").body
    job = server.request("POST", "/api/v1/schedules", small_problem())
    _validator(document, "Job").validate(job.body)
    _validator(document, "Plan").validate(job.body["plan"])
    _validator(document, "JobList").validate(server.request("GET", "/api/v1/schedules").body)
    _validator(document, "Health").validate(server.request("GET", "/api/v1/health").body)
    _validator(document, "Version").validate(server.request("GET", "/api/v1/version").body)
    error = server.request("GET", "/api/v1/schedules/unknown")
    _validator(document, "Error").validate(error.body)
    with pytest.raises(jsonschema.ValidationError):
        _validator(document, "Job").validate({"id": "x"})


def test_the_status_page_shows_the_latest_jobs_and_a_chart(server: Server) -> None:
    job = server.request("POST", "/api/v1/schedules", small_problem()).body
    page = server.request("GET", "/")
    assert page.status == 200
    html = page.body
    assert "<h1>flexems optimizer</h1>" in html
    assert job["id"] in html
    assert "finished" in html and "4 steps of PT1H" in html
    assert html.count("<rect") == 4  # one bar per step of the last plan


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_a_person_signs_in_to_the_status_page(server: Server) -> None:
    """A browser without the bearer header gets a sign-in form, not a JSON 401; the session
    cookie opens the page (not the API) until signing out."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(server.base + "/") as page:  # sent on to the form
        assert page.url.endswith("/login") and "name='token'" in page.read().decode()
    form = urllib.parse.urlencode({"token": "guess"}).encode()
    with pytest.raises(urllib.error.HTTPError) as wrong:
        browser.open(server.base + "/login", data=form)
    assert wrong.value.code == 401 and "not this service" in wrong.value.read().decode()
    # Signing in answers 303 with the cookie; a browser follows it to the status page.
    plain = urllib.request.build_opener(_NoRedirect)
    form = urllib.parse.urlencode({"token": server.token}).encode()
    with pytest.raises(urllib.error.HTTPError) as signed_in:
        plain.open(server.base + "/login", data=form)
    assert signed_in.value.code == 303
    cookie = signed_in.value.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "flexems_session=" in cookie
    with browser.open(server.base + "/login", data=form) as page:
        assert page.url == server.base + "/"
        assert "<h1>flexems optimizer</h1>" in page.read().decode()
    with pytest.raises(urllib.error.HTTPError) as api:
        browser.open(server.base + "/api/v1/schedules")  # the cookie is not an API token
    assert api.value.code == 401
    with browser.open(server.base + "/logout", data=b"") as page:
        assert page.url.endswith("/login")
    with browser.open(server.base + "/") as page:
        assert page.url.endswith("/login")


def test_pages_link_under_the_ingress_path(server: Server) -> None:
    import urllib.request

    request = urllib.request.Request(
        server.base + "/docs", headers={"X-Ingress-Path": "/api/hassio_ingress/abc123"}
    )
    with urllib.request.urlopen(request) as response:
        html = response.read().decode()
    assert "href='/api/hassio_ingress/abc123/api/v1/openapi.json'" in html
    assert re.search(r"<span class='method'>post</span><code>/api/v1/schedules</code>", html)


def test_plans_with_every_device_kind_match_the_schema(server: Server) -> None:
    from flexems_optimizer.samples import coupled_site

    document = server.request("GET", "/api/v1/openapi.json").body
    job = server.request("POST", "/api/v1/schedules?wait=30", coupled_site(24, 60)).body
    assert job["status"] == "finished"
    _validator(document, "Plan").validate(job["plan"])
    assert {d["type"] for d in job["plan"]["devices"].values()} == {
        "storage", "heat-storage", "heat-pump", "process",
    }  # fmt: skip


def test_pages_are_sent_with_security_headers_and_a_hostile_ingress_path_is_ignored(
    server: Server,
) -> None:
    hostile = "/x'><script>alert(1)</script>"
    request = urllib.request.Request(
        server.base + "/",
        headers={"Authorization": f"Bearer {server.token}", "X-Ingress-Path": hostile},
    )
    with urllib.request.urlopen(request) as page:
        html = page.read().decode()
        headers = page.headers
    assert "<script>" not in html and "alert(1)" not in html
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Referrer-Policy"] == "no-referrer"
    api = server.request("GET", "/api/v1/schedules")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_the_schema_says_end_and_duration_do_not_go_together(server: Server) -> None:
    document = server.request("GET", "/api/v1/openapi.json").body
    both = {**small_problem(), "end": "2026-06-02T00:00:00+00:00", "duration": "P1D"}
    with pytest.raises(jsonschema.ValidationError):
        _validator(document, "Problem").validate(both)
    assert server.request("POST", "/api/v1/schedules", both).status == 422
