"""Signing in and out: the status page for people, behind a login form instead of a bearer header.

Signing in with the service token sets a random session cookie (HttpOnly, SameSite=Strict, so
no other site can use it) that opens the status page for 12 hours. Sessions live in memory: a
restart signs everyone out. The cookie opens only the pages a person reads (GET /), never the
API: scripts keep using the bearer token.
"""

from __future__ import annotations

import hmac
from html import escape

from aiohttp import web

from .auth import COOKIE, SESSION_S, SESSIONS_KEY, TOKEN_KEY
from .ingress import path_prefix
from .pages import page

routes = web.RouteTableDef()


def _form(request: web.Request, wrong: bool = False) -> web.Response:
    message = "<p class='error'>That is not this service's token.</p>" if wrong else ""
    body = (
        "<h1>flexems optimizer</h1><p class='muted'>Sign in with the service's API token (the "
        "add-on's Configuration tab shows it) to see its status page.</p>"
        f"{message}<form method='post' action='{escape(path_prefix(request))}/login'>"
        "<label>API token <input type='password' name='token' autocomplete='current-password' "
        "required autofocus></label> <button type='submit'>Sign in</button></form>"
    )
    response = page("flexems optimizer: sign in", body)
    response.set_status(401 if wrong else 200)
    return response


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    return _form(request)


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    if request.content_type != "application/x-www-form-urlencoded":
        return _form(request, wrong=True)  # what the sign-in form sends, nothing else
    try:
        form = await request.post()
    except ValueError:  # a body that is not a form
        return _form(request, wrong=True)
    given = form.get("token")
    token = request.app[TOKEN_KEY]
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        return _form(request, wrong=True)
    response = web.Response(status=303, headers={"Location": f"{path_prefix(request)}/"})
    response.set_cookie(
        COOKIE,
        request.app[SESSIONS_KEY].open(),
        max_age=SESSION_S,
        httponly=True,
        samesite="Strict",
        path="/",
    )
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    request.app[SESSIONS_KEY].close(request.cookies.get(COOKIE))
    response = web.Response(status=303, headers={"Location": f"{path_prefix(request)}/login"})
    response.del_cookie(COOKIE, path="/")
    return response
