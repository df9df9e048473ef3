"""Home Assistant's ingress: the proxy to trust, and the path prefix it puts before our pages."""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web

INGRESS_PROXY: Final = "172.30.32.2"  # the Supervisor's ingress proxy: it authenticated the user
# Ingress paths look like /api/hassio_ingress/<token>; anything else in the header is ignored,
# so no request can put markup or a header break into our pages and redirects.
_PREFIX = re.compile(r"/[A-Za-z0-9_.~/-]{0,200}")


def path_prefix(request: web.Request) -> str:
    """The path prefix the browser sees (HA ingress adds one), safe to put in HTML and headers."""
    given = request.headers.get("X-Ingress-Path", "")
    return given.rstrip("/") if _PREFIX.fullmatch(given) else ""
