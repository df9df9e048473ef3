"""Bearer-token auth on everything but health, the API docs and the login form; HA's ingress
proxy is trusted; a person's session cookie (sessions.py) opens the status page."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from .errors import error_response
from .ingress import INGRESS_PROXY, path_prefix

OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/openapi.json", "/docs", "/login", "/logout"})
# Paths that check their own bearer tokens (devices' S2 tokens, community members' tokens or
# the host's), never open to anyone.
OWN_AUTH_PATHS = frozenset({"/api/v1/s2", "/api/v1/s2/tokens"})
OWN_AUTH_PREFIX = "/api/v1/communities"
PAGES = frozenset({"/"})  # what a signed-in person may open with the session cookie
TOKEN_KEY = web.AppKey("token", str)
COOKIE: Final = "flexems_session"
SESSION_S: Final = 12 * 3600
MAX_SESSIONS: Final = 1000  # oldest forgotten first: a flood of logins cannot grow memory


@dataclass
class Sessions:
    """Session ids and when each ends (monotonic seconds)."""

    ends: dict[str, float] = field(default_factory=dict)

    def open(self) -> str:
        now = time.monotonic()
        self.ends = {sid: end for sid, end in self.ends.items() if end > now}
        while len(self.ends) >= MAX_SESSIONS:
            self.ends.pop(next(iter(self.ends)))
        session = secrets.token_urlsafe(32)
        self.ends[session] = now + SESSION_S
        return session

    def valid(self, session: str | None) -> bool:
        end = self.ends.get(session or "")
        return end is not None and end > time.monotonic()

    def close(self, session: str | None) -> None:
        self.ends.pop(session or "", None)


SESSIONS_KEY: Final = web.AppKey("sessions", Sessions)


def is_token(given: str, token: str) -> bool:
    """Does `given` (a header's value) equal `token`? In constant time; aiohttp keeps bytes that
    are not UTF-8 as surrogates, so they are compared as bytes too."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode())


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[TOKEN_KEY]
    if request.path in OWN_AUTH_PATHS or request.path.startswith(OWN_AUTH_PREFIX):
        return await handler(request)
    if token and request.path not in OPEN_PATHS and request.remote != INGRESS_PROXY:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if not given and request.path in PAGES and request.method == "GET":
            if request.app[SESSIONS_KEY].valid(request.cookies.get(COOKIE)):
                return await handler(request)
            # A person in a browser: the login form, not a JSON error.
            return web.Response(status=303, headers={"Location": f"{path_prefix(request)}/login"})
        if not given:
            return error_response(
                401, "unauthorized", "this server needs 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        if scheme.lower() != "bearer" or not is_token(value, token):
            return error_response(
                401, "invalid_token", "the bearer token is not valid for this server",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )  # fmt: skip
    return await handler(request)
