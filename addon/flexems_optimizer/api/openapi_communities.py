"""The OpenAPI paths and schemas of /api/v1/communities (merged into the API's document)."""

from __future__ import annotations

from typing import Any

from .openapi_parts import error_answer as _error
from .openapi_parts import json_answer as _json


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_COMMUNITY = {
    "name": "community",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "examples": ["c0123456789ab"]},
}
_MEMBER = {"name": "member", "in": "path", "required": True, "schema": {"type": "string"}}
_BODY_ERRORS = {
    "400": _error("malformed JSON"),
    "413": _error("body too large"),
    "415": _error("not JSON"),
}
_HOST = {"401": _error("no bearer token"), "403": _error("not the host's token")}
_AS_MEMBER = {
    "401": _error("no bearer token, or not a member's token on this host"),
    "403": _error("a member of another community, or not this member"),
}
_NOT_FOUND = {"404": _error("no such community on this host")}
_SERIES = {"type": "array", "items": {"type": ["number", "null"]}}
_ROUND_KEYS = ["community", "round", "round_in_cycle", "status", "start", "resolution", "steps"]
_ROUND_PROPERTIES = {
    "community": {"type": "string"},
    "round": {"type": "integer", "description": "counts every round the host opened"},
    "round_in_cycle": {"type": "integer", "description": "0: each member plans alone"},
    "status": {"enum": ["open", "converged", "round_limit"]},
    "start": {"type": "string", "format": "date-time", "description": "the window's start"},
    "resolution": {"type": "string"},
    "steps": {"type": "integer"},
    "opened_at": {"type": ["string", "null"]},
    "round_timeout_s": {"type": "number"},
}


def community_schemas() -> dict[str, Any]:
    capacity = {
        "type": "object",
        "required": ["consumption_kw", "production_kw"],
        "properties": {"consumption_kw": _SERIES, "production_kw": _SERIES},
    }
    return {
        "CommunitySettings": {
            "type": "object",
            "required": ["name", "capacity"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "capacity": {
                    "type": "object",
                    "description": "the shared connection's limits: each a quantity ('100 kW') "
                    "or a series as in a site problem",
                    "properties": {"consumption": {}, "production": {}},
                },
                "resolution": {"type": "string", "default": "PT15M"},
                "horizon": {"type": "string", "default": "PT24H"},
                "policy": {
                    "description": "a preset's name (flexmeasures, discriminated, smoothed, "
                    "damped, remedies, capacity-fallback, marginal-value, capacity) or its "
                    "fields over a preset",
                },
                "round-timeout": {"description": "seconds (1-3600) or an ISO duration"},
            },
        },
        "CommunityRound": {
            "type": "object",
            "required": _ROUND_KEYS,
            "properties": _ROUND_PROPERTIES,
        },
        "Community": {
            "type": "object",
            "required": [*_ROUND_KEYS, "name", "members", "aggregate_kw", "capacity", "breaches"],
            "properties": {
                **_ROUND_PROPERTIES,
                "name": {"type": "string"},
                "members": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["member", "name", "stale"],
                        "properties": {
                            "member": {"type": "string"},
                            "name": {"type": "string"},
                            "joined_at": {"type": ["string", "null"]},
                            "last_seen": {"type": ["string", "null"]},
                            "stale": {"type": "boolean"},
                        },
                    },
                },
                "aggregate_kw": _SERIES,
                "capacity": capacity,
                "breaches": {"type": "array", "items": {"type": "object"}},
            },
        },
        "CommunityList": {
            "type": "object",
            "required": ["communities"],
            "properties": {"communities": {"type": "array", "items": {"type": "object"}}},
        },
        "CommunityInvite": {
            "type": "object",
            "required": ["community", "invite", "expires_at"],
            "properties": {
                "community": {"type": "string"},
                "invite": {"type": "string"},
                "expires_at": {"type": "string"},
                "join": {"type": "string"},
            },
        },
        "CommunityMember": {
            "type": "object",
            "required": ["community", "member", "token"],
            "properties": {
                "community": {"type": "string"},
                "member": {"type": "string"},
                "token": {"type": "string", "description": "kept only hashed"},
                "links": {"type": "object"},
            },
        },
        "CommunityMemberRound": {
            "type": "object",
            "required": [*_ROUND_KEYS, "member", "signals", "posted"],
            "properties": {
                **_ROUND_PROPERTIES,
                "member": {"type": "string"},
                "signals": {
                    "type": "object",
                    "description": "flex-context fields to add to the member's site problem: "
                    "community-price, community-consumption-capacity, "
                    "community-production-capacity",
                },
                "posted": {"type": "boolean"},
            },
        },
        "CommunityProfile": {
            "type": "object",
            "required": ["round", "start", "resolution", "net_power_kw"],
            "additionalProperties": False,
            "properties": {
                "round": {"type": "integer"},
                "start": {"type": "string", "format": "date-time"},
                "resolution": {"type": "string"},
                "net_power_kw": {"type": "array", "items": {"type": "number"}},
                "consumption_marginal_value_eur_per_kw": {
                    "type": "array",
                    "items": {"type": "number", "minimum": 0},
                },
                "production_marginal_value_eur_per_kw": {
                    "type": "array",
                    "items": {"type": "number", "minimum": 0},
                },
            },
        },
        "CommunityReport": {
            "type": "object",
            "required": [
                *_ROUND_KEYS,
                "member",
                "aggregate_kw",
                "peak_kw",
                "capacity",
                "contribution_at_peak_kw",
                "signals",
            ],
            "properties": {
                **_ROUND_PROPERTIES,
                "member": {"type": "string"},
                "aggregate_kw": _SERIES,
                "peak_kw": {"type": "number"},
                "peak_at": {"type": "string"},
                "capacity": capacity,
                "over_capacity_kwh": {"type": "number"},
                "self_consumption": {"type": ["number", "null"]},
                "contribution_at_peak_kw": {"type": "number"},
                "signals": {"type": "object"},
            },
        },
    }


def community_paths() -> dict[str, Any]:
    """Every operation with its own path parameters (the docs page reads operations only)."""
    base = "/api/v1/communities"
    paths: dict[str, dict[str, Any]] = {
        base: {
            "post": {
                "summary": "Host a community (the host's token)",
                "operationId": "createCommunity",
                "requestBody": _body({"$ref": "#/components/schemas/CommunitySettings"}),
                "responses": {
                    "201": _json("the community", "Community"),
                    **_BODY_ERRORS,
                    **_HOST,
                    "422": _error("invalid settings (with the path)"),
                },
            },
            "get": {
                "summary": "The communities this add-on hosts",
                "operationId": "listCommunities",
                "responses": {"200": _json("the list", "CommunityList"), **_HOST},
            },
        },
        f"{base}/{{community}}": {
            "parameters": [_COMMUNITY],
            "get": {
                "summary": "Members (name, last seen, stale), the round, the aggregate and "
                "breaches (the host only; never a member's own profile)",
                "operationId": "getCommunity",
                "responses": {"200": _json("the community", "Community"), **_HOST, **_NOT_FOUND},
            },
            "delete": {
                "summary": "Stop hosting the community",
                "operationId": "deleteCommunity",
                "responses": {"204": {"description": "gone"}, **_HOST, **_NOT_FOUND},
            },
        },
        f"{base}/{{community}}/events": {
            "parameters": [_COMMUNITY],
            "get": {
                "summary": "WebSocket (upgrade; the host only): `{type: 'community', community, "
                "view}` with the view GET /api/v1/communities/{community} answers, at once and "
                "whenever it changes (members, stale, the round and its status, the aggregate, "
                "breaches: looked at every second, a community of hundreds of members less often; "
                "`last_seen` and `checked_at` alone are not "
                "news); `view: null` when the community is no longer hosted, then the server "
                "closes. The server pings every 50 s; it reads nothing from the client.",
                "operationId": "communityEvents",
                "responses": {
                    "101": {"description": "switching to the WebSocket protocol"},
                    "400": _error("not a WebSocket upgrade request"),
                    **_HOST,
                    **_NOT_FOUND,
                },
            },
        },
        f"{base}/{{community}}/invites": {
            "parameters": [_COMMUNITY],
            "post": {
                "summary": "A one-time invite code (default: valid 24 hours)",
                "operationId": "createCommunityInvite",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "expires_in": {"type": "string", "default": "PT24H"}
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json("the invite", "CommunityInvite"),
                    **_BODY_ERRORS,
                    **_HOST,
                    **_NOT_FOUND,
                    "422": _error("invalid expires_in"),
                },
            },
        },
        f"{base}/{{community}}/members": {
            "parameters": [_COMMUNITY],
            "post": {
                "summary": "Join with an invite code: a member id and its token",
                "operationId": "joinCommunity",
                "security": [],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["invite", "name"],
                        "properties": {
                            "invite": {"type": "string"},
                            "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        },
                    }
                ),
                "responses": {
                    "201": _json("the member", "CommunityMember"),
                    **_BODY_ERRORS,
                    "403": _error("the invite is unknown, used or expired"),
                    **_NOT_FOUND,
                    "422": _error("no name or invite"),
                },
            },
        },
        f"{base}/{{community}}/members/{{member}}": {
            "parameters": [_COMMUNITY, _MEMBER],
            "delete": {
                "summary": "The host removes a member, or a member leaves (its own token)",
                "operationId": "leaveCommunity",
                "responses": {
                    "204": {"description": "it no longer counts"},
                    **_AS_MEMBER,
                    "404": _error("no such community or member"),
                },
            },
        },
        f"{base}/{{community}}/members/{{member}}/profile": {
            "parameters": [_COMMUNITY, _MEMBER],
            "put": {
                "summary": "A member's net profile for the current round (its own token)",
                "operationId": "postCommunityProfile",
                "requestBody": _body({"$ref": "#/components/schemas/CommunityProfile"}),
                "responses": {
                    "200": _json("the round after it", "CommunityRound"),
                    **_BODY_ERRORS,
                    **_AS_MEMBER,
                    **_NOT_FOUND,
                    "422": _error(
                        "wrong round, start, resolution or length, or a "
                        "value that is not a sane number (with the path)"
                    ),
                },
            },
        },
        f"{base}/{{community}}/rounds/current": {
            "parameters": [_COMMUNITY],
            "get": {
                "summary": "The round, its window and this member's signals (its own token)",
                "operationId": "getCommunityRound",
                "responses": {
                    "200": _json("the round", "CommunityMemberRound"),
                    **_AS_MEMBER,
                    **_NOT_FOUND,
                },
            },
        },
        f"{base}/{{community}}/report": {
            "parameters": [_COMMUNITY],
            "get": {
                "summary": "The aggregate, its peak, the capacity, the community's "
                "self-consumption, this member's part at the peak and its signals",
                "operationId": "getCommunityReport",
                "responses": {
                    "200": _json("the report", "CommunityReport"),
                    **_AS_MEMBER,
                    **_NOT_FOUND,
                },
            },
        },
    }
    for operations in paths.values():
        parameters = operations.pop("parameters", None)
        for operation in operations.values():
            if parameters:
                operation["parameters"] = parameters
    return paths


def membership_paths() -> dict[str, Any]:
    """A site of this add-on taking part in a community (hosted here or elsewhere)."""
    site = {"name": "site", "in": "path", "required": True, "schema": {"type": "string"}}
    status = {
        "type": "object",
        "required": ["site", "host", "community", "member"],
        "properties": {
            "site": {"type": "string"},
            "host": {"type": "string"},
            "community": {"type": "string"},
            "member": {"type": "string"},
            "round": {"type": ["integer", "null"]},
            "status": {
                "description": "posted: this round's plan is with the host; converged or "
                "round_limit: the host's round settled so (the latter with breaches)",
                "enum": ["starting", "planning", "posted", "converged", "round_limit", "error"],
            },
            "posted_at": {"type": ["string", "null"]},
            "error": {"type": ["string", "null"]},
            "signals": {"type": ["object", "null"]},
            "report": {
                "description": "the host's latest report to this member (CommunityReport)",
                "type": ["object", "null"],
            },
        },
    }
    answer = {"content": {"application/json": {"schema": status}}}
    no_membership = {"404": _error("no such site, or it takes part in no community")}
    auth = {"401": _error("missing or invalid bearer token")}
    return {
        "/api/v1/sites/{site}/community": {
            "put": {
                "summary": "Make the site take part in a community: join with an invite "
                "({host, community, invite, name}) or with a membership made before "
                "({host, community, member, token}); the token is kept, never shown again",
                "operationId": "joinCommunityAsSite",
                "parameters": [site],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["host", "community"],
                        "properties": {
                            "host": {"type": "string", "examples": ["http://192.168.1.20:8099"]},
                            "community": {"type": "string"},
                            "invite": {"type": "string"},
                            "name": {"type": "string"},
                            "member": {"type": "string"},
                            "token": {"type": "string"},
                        },
                    }
                ),
                "responses": {
                    "201": {"description": "taking part", **answer},
                    **_BODY_ERRORS,
                    **auth,
                    "404": _error("no such site"),
                    "409": _error("the host refused the invite"),
                    "422": _error(
                        "invalid host, community, invite, name, member or token, or the host "
                        "did not answer (host_unreachable)"
                    ),
                },
            },
            "get": {
                "summary": "How the site takes part: round, status, last post, last error",
                "operationId": "getSiteCommunity",
                "parameters": [site],
                "responses": {
                    "200": {"description": "the status", **answer},
                    **auth,
                    **no_membership,
                },
            },
            "delete": {
                "summary": "Leave: the site plans without signals again; the host is told",
                "operationId": "leaveCommunityAsSite",
                "parameters": [site],
                "responses": {"204": {"description": "left"}, **auth, **no_membership},
            },
        }
    }
