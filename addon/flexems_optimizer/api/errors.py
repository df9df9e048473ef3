"""Every error answer is `{"error": {"code", "message", "path"}}` with a fitting status."""

from __future__ import annotations

import logging
import sqlite3

from aiohttp import web
from aiohttp.typedefs import Handler

from ..problem.errors import ProblemError

LOGGER = logging.getLogger(__name__)


class BodyError(ValueError):
    """The body cannot be used: `status`, `code` and a message for the error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_response(
    status: int, code: str, message: str, path: str = "", headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "path": path}}, status=status, headers=headers
    )


# Pages are plain HTML with inline styles, no scripts; shown in HA's ingress iframe (same origin)
# and nowhere else.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProblemError as error:
        return error_response(422, error.code, error.message, error.path)
    except BodyError as error:
        return error_response(error.status, error.code, str(error))
    except web.HTTPRequestEntityTooLarge as error:
        return error_response(413, "body_too_large", error.text or "the body is too large")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = error.reason.lower().replace(" ", "_")
        # Keep what the status needs, e.g. a 405's Allow.
        kept = {
            name: error.headers[name] for name in ("Allow", "Retry-After") if name in error.headers
        }
        return error_response(error.status, code, error.text or error.reason, headers=kept)
    except sqlite3.OperationalError as error:
        LOGGER.error("the job store failed in %s %s: %s", request.method, request.path, error)
        if "full" in str(error):
            return error_response(507, "store_full", "the disk is full: no job can be kept now")
        return error_response(503, "store_unavailable", f"the job store cannot be used: {error}")
    except sqlite3.DatabaseError as error:
        LOGGER.error("the job store is damaged: %s", error)
        return error_response(503, "store_corrupt", f"the job store is damaged: {error}")
    except Exception:
        LOGGER.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed; see its log")
