"""Bearer-token auth on everything but health and the API docs; HA's ingress proxy is trusted."""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler

from .errors import error_response

INGRESS_PROXY = "172.30.32.2"  # the Supervisor's ingress proxy: it authenticated the user
OPEN_PATHS = frozenset({"/api/v1/health", "/api/v1/openapi.json", "/docs"})
TOKEN_KEY = web.AppKey("token", str)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[TOKEN_KEY]
    if token and request.path not in OPEN_PATHS and request.remote != INGRESS_PROXY:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if not given:
            return error_response(
                401, "unauthorized", "this server needs 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
            return error_response(
                401, "invalid_token", "the bearer token is not valid for this server",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )  # fmt: skip
    return await handler(request)
