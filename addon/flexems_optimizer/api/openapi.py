"""The OpenAPI 3.1 document of API v1 (tested against the real routes and real responses)."""

from __future__ import annotations

from typing import Any

from .. import __version__
from .openapi_communities import community_paths, community_schemas, membership_paths
from .openapi_parts import error_answer as _error
from .openapi_parts import json_answer as _json

_LOCATION = {"Location": {"description": "the job's URL", "schema": {"type": "string"}}}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
_AUTH_ERRORS = {"401": _error("missing or invalid bearer token")}
_SITE = {
    "name": "site", "in": "path", "required": True,
    "description": "1 to 64 lowercase letters, digits, '-' or '_' (anything else: 404)",
    "schema": {"type": "string", "examples": ["home"]},
}  # fmt: skip
_NO_SITE = {"404": _error("no such site (or not a valid site id)")}
_STAMP = {"type": ["string", "null"], "format": "date-time"}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "path"],
                "properties": {
                    "code": {"type": "string", "examples": ["invalid_quantity"]},
                    "message": {"type": "string"},
                    "path": {
                        "type": "string",
                        "description": "JSON path of the field, e.g. flex-model[0].soc-max",
                    },
                },
            }
        },
    },
    "Problem": {
        "type": "object",
        "description": "A site problem: see PROBLEM-FORMAT.md and the README's 'The problem'. "
        "The horizon is `end` or `duration`, not both; strings are at most 200 characters.",
        "required": ["start"],
        "not": {"required": ["end", "duration"]},
        "properties": {
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "duration": {"type": "string", "examples": ["P1D"]},
            "resolution": {"type": "string", "default": "PT15M"},
            "objective": {"enum": ["cost", "co2", "self-consumption"], "default": "cost"},
            "flex-context": {"type": "object"},
            "flex-model": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "type": {
                            "enum": ["storage", "heat-storage", "heat-pump", "process",
                                     "s2-frbc", "s2-pebc"],
                            "default": "storage",
                            "description": "s2-frbc / s2-pebc: an S2 device's own messages "
                            "(s2-frbc: system-description, storage-status, actuator-statuses, "
                            "timer-statuses, leakage-behaviour, usage-forecast, "
                            "fill-level-target-profile, fill-level-breach-price; s2-pebc: "
                            "power-forecast, power-constraints, energy-constraints), each "
                            "checked against its S2 schema",
                        },
                    },
                },
            },
        },
    },
    "SiteProblem": {
        "type": "object",
        "description": "A site problem as for /api/v1/schedules, except that `start` may be "
        "left out: then each plan starts at the current step (of `resolution`) and the horizon "
        "is a `duration`; the site is planned again at every new step.",
        "not": {"required": ["end", "duration"]},
        "properties": {"start": {"type": "string", "format": "date-time"}},
    },
    "Site": {
        "type": "object",
        "required": ["site", "revision", "updated_at", "rolling", "plan_revision", "planned_at",
                     "error", "failed_revision", "links"],
        "properties": {
            "site": {"type": "string"},
            "revision": {"type": "integer", "description": "counts the problems stored"},
            "updated_at": {"type": "string", "format": "date-time"},
            "rolling": {"type": "boolean", "description": "no `start`: plans from now on"},
            "plan_revision": {"type": ["integer", "null"],
                              "description": "the problem revision of the latest plan"},
            "planned_at": _STAMP,
            "error": {
                "oneOf": [
                    {"type": "null"},
                    {"type": "object", "required": ["code", "message", "path"],
                     "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                    "path": {"type": "string"}}},
                ],
                "description": "why the latest planning failed (the plan before stays)",
            },
            "failed_revision": {"type": ["integer", "null"],
                                "description": "the problem revision whose planning failed"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
            "problem": {"type": "object"},
            "s2_devices": {"type": "array", "items": {"type": "object"}},
        },
    },
    "SiteList": {
        "type": "object",
        "required": ["sites"],
        "properties": {"sites": {"type": "array", "items": {"$ref": "#/components/schemas/Site"}}},
    },
    "SitePlan": {
        "type": "object",
        "description": "The latest plan of a site; the events WebSocket sends the same as "
        "`{type: 'plan', ...}` for every new plan (and `plan_failed` with an `error`, "
        "`s2_devices`, `community`, `site_removed`).",
        "required": ["site", "revision", "planned_at", "plan"],
        "properties": {
            "site": {"type": "string"},
            "revision": {"type": "integer", "description": "the problem revision planned"},
            "planned_at": {"type": "string", "format": "date-time"},
            "current": {"type": "boolean",
                        "description": "false while a newer problem is being planned"},
            "plan": {"$ref": "#/components/schemas/Plan"},
            "s2_devices": {"type": "array", "items": {"type": "object"},
                           "description": "the site's S2 devices (resource_id, name, "
                           "control_type, connected, last_seen, measurement, forecast)"},
        },
    },
    "S2Pairing": {
        "type": "object",
        "required": ["token", "url", "site", "label"],
        "properties": {
            "token": {"type": "string"},
            "url": {"type": "string", "description": "where the device connects (WebSocket)"},
            "site": {"type": "string"},
            "label": {"type": "string"},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "Plan": {
        "type": "object",
        "required": ["status", "start", "end", "resolution", "timestamps", "devices", "site",
                     "costs", "breaches", "explanation", "solver"],
        "properties": {
            "status": {"enum": ["optimal", "relaxed", "infeasible"]},
            "start": {"type": "string"},
            "end": {"type": "string"},
            "resolution": {"type": "string"},
            "objective": {"type": "string"},
            "timestamps": {"type": "array", "items": {"type": "string"}},
            "devices": {
                "type": "object",
                "description": "per device, by its kind: storages have power_kw and soc_kwh; "
                "heat-storages soc_kwh or temperature_c and heat_kw; heat pumps power_kw, "
                "heat_kw and cop; processes power_kw and start (or run_steps); s2-frbc "
                "power_kw, fill_level, fill_level_label and actuators (per actuator id: "
                "operation_mode and factor per step); s2-pebc power_kw, forecast_kw, envelope "
                "(lower_kw, upper_kw per step, null without constraints), constraints, "
                "commodity_quantities. In a site's plan, S2 devices under their resource id: "
                "type s2, resource_id, control_type, name, power_kw, what their kind has, and "
                "instructions (sent, with their status)",
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"enum": ["storage", "heat-storage", "heat-pump", "process",
                                          "s2-frbc", "s2-pebc", "s2"]},
                        "control_type": {"type": "string",
                                         "description": "S2 devices (site plans): the S2 "
                                         "control type selected"},
                        "power_kw": {"type": "array", "items": {"type": "number"}},
                        "soc_kwh": {"type": "array", "items": {"type": "number"}},
                        "temperature_c": {"type": "array", "items": {"type": "number"}},
                        "heat_kw": {"type": "array", "items": {"type": "number"}},
                        "cop": {"type": "array", "items": {"type": "number"}},
                        "start": {"type": "string"},
                        "run_steps": {"type": "array", "items": {"type": "string"}},
                        "fill_level": {"type": "array", "items": {"type": "number"}},
                        "fill_level_label": {"type": ["string", "null"]},
                        "actuators": {"type": "object"},
                        "forecast_kw": {"type": "array", "items": {"type": "number"}},
                        "envelope": {"type": "object"},
                        "instructions": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
            "site": {
                "type": "object",
                "required": ["net_power_kw", "import_kw", "export_kw"],
                "additionalProperties": {"type": "array", "items": {"type": "number"}},
            },
            "costs": {
                "type": "object",
                "required": ["energy_eur", "peak_eur", "breach_eur", "total_eur"],
                "properties": {
                    "energy_eur": {"type": "number"},
                    "peak_eur": {"type": "number"},
                    "breach_eur": {"type": "number"},
                    "start_eur": {
                        "type": "number",
                        "description": "heat pumps' starts at their start-cost (wear)",
                    },
                    "total_eur": {"type": "number"},
                    "baseline_energy_eur": {
                        "type": ["number", "null"],
                        "description": "the energy cost without flexibility used: batteries and "
                        "EVs charge as soon as possible, heat pumps heat when needed, processes "
                        "run at their earliest (README: The plan)",
                    },
                    "savings_eur": {"type": ["number", "null"]},
                    "currency": {"type": "string"},
                    "co2_kg": {"type": "number"},
                },
            },
            "breaches": {"type": "array", "items": {"type": "object"}},
            "explanation": {"type": "object"},
            "notes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "inputs that had no effect, and rules that keep a target from "
                "being met ('hp: a target needs it to run, max-starts is 0')",
            },
            "infeasible": {"type": "array", "items": {"type": "object"}},
            "message": {"type": "string"},
            "fallback": {"const": "relaxed"},
            "solver": {
                "type": "object",
                "description": "problem_class (lp or milp), binaries, solves, build_s, solve_s, "
                "total_s, mip_gap, proven_optimal (false when the search limit ended a MILP's "
                "search: the best plan found, within mip_gap), started_from (a MILP's first plan: "
                "relaxation, its LP relaxation rounded, or earlier_plan, the on/off choices of "
                "the site's last plan; null for an LP)",
                "properties": {
                    "problem_class": {"enum": ["lp", "milp"]},
                    "mip_gap": {"type": "number"},
                    "proven_optimal": {"type": "boolean"},
                    "started_from": {"enum": ["relaxation", "earlier_plan", None]},
                },
            },
        },
    },
    "JobSummary": {
        "type": ["object", "null"],
        "properties": {
            "status": {"type": "string"},
            "steps": {"type": "integer"},
            "total_eur": {"type": "number"},
            "net_power_kw": {"type": "array", "items": {"type": "number"}},
        },
    },
    "JobMetadata": {
        "type": "object",
        "required": ["id", "status", "created_at", "started_at", "finished_at", "duration_s",
                     "summary", "error"],
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": ["queued", "running", "finished", "failed", "cancelled"]},
            "created_at": {"type": "string"},
            "started_at": {"type": ["string", "null"]},
            "finished_at": {"type": ["string", "null"]},
            "duration_s": {"type": ["number", "null"]},
            "summary": {"$ref": "#/components/schemas/JobSummary"},
            "error": {"oneOf": [{"type": "null"},
                                {"$ref": "#/components/schemas/Error/properties/error"}]},
        },
    },
    "Job": {
        "allOf": [
            {"$ref": "#/components/schemas/JobMetadata"},
            {"type": "object", "properties": {"plan": {"$ref": "#/components/schemas/Plan"}}},
        ]
    },
    "JobList": {
        "type": "object",
        "required": ["jobs"],
        "properties": {
            "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/JobMetadata"}}
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "workers", "pending"],
        "properties": {
            "status": {"enum": ["ok", "failing"]},
            "workers": {"type": "integer", "description": "solver workers running"},
            "busy": {"type": "integer", "description": "workers solving now"},
            "pending": {"type": "integer", "description": "jobs queued or running"},
            "reasons": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Version": {
        "type": "object",
        "required": ["version", "api", "highs", "instance_id"],
        "properties": {
            "version": {"type": "string"},
            "api": {"const": "v1"},
            "highs": {"type": "string"},
            "store_recovered": {
                "description": "set when the job store was found corrupt at start and moved "
                "aside: where to, when and why",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["moved_to", "at", "reason"],
                        "properties": {
                            "moved_to": {"type": "string"},
                            "at": {"type": "string"},
                            "reason": {"type": "string"},
                        },
                    },
                ],
            },
            "instance_id": {
                "type": "string",
                "pattern": "^[0-9a-f]{32}$",
                "description": "made once per data directory: the same service, however its "
                "address is spelled",
            },
        },
    },
}  # fmt: skip


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "flexems optimizer",
            "version": __version__,
            "description": "Optimal schedules for home energy flexibility (FlexMeasures-style "
            "flex-model and flex-context). Every error is {error: {code, message, path}}.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/schedules": {
                "post": {
                    "summary": "Plan a site problem: inline if ready within `wait`, else a job",
                    "operationId": "createSchedule",
                    "parameters": [
                        {
                            "name": "wait",
                            "in": "query",
                            "required": False,
                            "description": "seconds to wait for the plan (0–60, default 5)",
                            "schema": {"type": "number", "minimum": 0, "maximum": 60},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                    "responses": {
                        "200": _json(
                            "the job has ended (see its status)", "Job", headers=_LOCATION
                        ),
                        "202": _json(
                            "queued or running: poll the Location", "Job", headers=_LOCATION
                        ),
                        "400": _error("malformed JSON or parameter"),
                        **_AUTH_ERRORS,
                        "413": _error("body too large"),
                        "422": _error("invalid problem: code, message and path of the field"),
                        "429": _error("queue full; see Retry-After"),
                    },
                },
                "get": {
                    "summary": "The latest jobs (metadata, newest first)",
                    "operationId": "listSchedules",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "description": "how many jobs (1–500, default 20)",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 500,
                                "default": 20,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json("jobs", "JobList"),
                        "400": _error("invalid limit"),
                        **_AUTH_ERRORS,
                    },
                },
            },
            "/api/v1/schedules/{job_id}": {
                "get": {
                    "summary": "A job: its status, and its plan once finished",
                    "operationId": "getSchedule",
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": _json("the job", "Job"),
                        **_AUTH_ERRORS,
                        "404": _error("unknown job"),
                    },
                },
                "delete": {
                    "summary": "Cancel a job that has not ended",
                    "operationId": "cancelSchedule",
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": _json("the cancelled job", "Job"),
                        **_AUTH_ERRORS,
                        "404": _error("unknown job"),
                        "409": _error("the job has already ended"),
                    },
                },
            },
            "/api/v1/sites": {
                "get": {
                    "summary": "The sites kept in this add-on",
                    "operationId": "listSites",
                    "responses": {"200": _json("sites", "SiteList"), **_AUTH_ERRORS},
                }
            },
            "/api/v1/sites/{site}": {
                "put": {
                    "summary": "Store the site's problem and plan it (after a 1 s debounce, one "
                    "plan per site at a time); the plan arrives on the events channel",
                    "operationId": "putSite",
                    "parameters": [_SITE],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/SiteProblem"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json("stored (a new revision)", "Site"),
                        "201": _json("a new site, stored", "Site"),
                        "400": _error("malformed JSON"),
                        **_AUTH_ERRORS,
                        **_NO_SITE,
                        "409": _error("this add-on keeps no more sites"),
                        "413": _error("body too large"),
                        "415": _error("not JSON"),
                        "422": _error("invalid problem: code, message and path of the field"),
                    },
                },
                "get": {
                    "summary": "The site: its problem and the S2 devices attached to it",
                    "operationId": "getSite",
                    "parameters": [_SITE],
                    "responses": {"200": _json("the site", "Site"), **_AUTH_ERRORS, **_NO_SITE},
                },
                "delete": {
                    "summary": "Forget the site (its listeners get `site_removed`)",
                    "operationId": "deleteSite",
                    "parameters": [_SITE],
                    "responses": {"204": {"description": "removed"}, **_AUTH_ERRORS, **_NO_SITE},
                },
            },
            "/api/v1/sites/{site}/plan": {
                "get": {
                    "summary": "The site's latest plan",
                    "operationId": "getSitePlan",
                    "parameters": [
                        _SITE,
                        {
                            "name": "revision",
                            "in": "query",
                            "required": False,
                            "description": "the plan of this problem revision or a later one",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {
                            "name": "wait",
                            "in": "query",
                            "required": False,
                            "description": "with `revision`: seconds to wait for it (0–60)",
                            "schema": {"type": "number", "minimum": 0, "maximum": 60},
                        },
                    ],
                    "responses": {
                        "200": _json("the plan", "SitePlan"),
                        "202": _json("that revision is still being planned", "Site"),
                        "400": _error("invalid revision or wait"),
                        **_AUTH_ERRORS,
                        "404": _error("no such site, or no plan yet"),
                        "409": _error("the planning failed: its error (code, message, path)"),
                    },
                }
            },
            "/api/v1/sites/{site}/events": {
                "get": {
                    "summary": "WebSocket (upgrade): the latest plan at once, then every new "
                    "one as it is made, as SitePlan with `type: 'plan'`; also "
                    "`{type: 'plan_failed', site, revision, error}`, "
                    "`{type: 's2_devices', site, s2_devices}` when an S2 device leaves, "
                    "`{type: 'community', site, community}` at once and when the site's "
                    "membership of a community changes (`community` as GET "
                    "/api/v1/sites/{site}/community answers; null when it left), and "
                    "`{type: 'site_removed', site}`. The server pings every "
                    "50 s; it reads "
                    "nothing from the client.",
                    "operationId": "siteEvents",
                    "parameters": [_SITE],
                    "responses": {
                        "101": {"description": "switching to the WebSocket protocol"},
                        "400": _error("not a WebSocket upgrade request"),
                        **_AUTH_ERRORS,
                        **_NO_SITE,
                    },
                }
            },
            "/api/v1/s2": {
                "get": {
                    "summary": "The S2 endpoint (EN 50491-12-2, protocol 0.0.2-beta): a "
                    "WebSocket for devices' Resource Managers. Always needs a bearer token (also "
                    "through ingress); the service token attaches the device to the site 'home'. "
                    "The CEM sends its Handshake first and answers every message with a "
                    "ReceptionStatus; frames over 1 MiB close the session.",
                    "operationId": "s2",
                    "responses": {
                        "101": {"description": "switching to the WebSocket protocol"},
                        "400": _error("not a WebSocket upgrade request"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/s2/pairings": {
                "post": {
                    "summary": "A one-time pairing token for one S2 device of a site (good for "
                    "15 minutes): give it and the URL to the device's installer",
                    "operationId": "createS2Pairing",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["label"],
                                    "properties": {
                                        "site": {"type": "string", "default": "home"},
                                        "label": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 100,
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json("the pairing token", "S2Pairing"),
                        "400": _error("malformed JSON"),
                        **_AUTH_ERRORS,
                        "413": _error("body too large"),
                        "415": _error("not JSON"),
                        "422": _error("invalid site or label"),
                    },
                }
            },
            "/api/v1/s2/tokens": {
                "post": {
                    "summary": "A device exchanges its pairing token (as the bearer token) for "
                    "its own device token, once; it connects to /api/v1/s2 with it",
                    "operationId": "exchangeS2Pairing",
                    "security": [{"bearer": []}],
                    "responses": {
                        "201": _json("the device token", "S2Pairing"),
                        "401": _error("no pairing token, or one used, expired or unknown"),
                    },
                }
            },
            "/api/v1/health": {
                "get": {
                    "summary": "Health (no auth): ok only when the store can write and workers "
                    "can solve",
                    "operationId": "health",
                    "security": [],
                    "responses": {
                        "200": _json("healthy", "Health"),
                        "503": _json("failing: the reasons say why", "Health"),
                    },
                }
            },
            "/api/v1/version": {
                "get": {
                    "summary": "Versions of the service, API and HiGHS",
                    "operationId": "version",
                    "responses": {"200": _json("versions", "Version"), **_AUTH_ERRORS},
                }
            },
            "/": {
                "get": {
                    "summary": "Status page: latest jobs and the last plan (HTML); with a bearer "
                    "token, through ingress, or signed in (a browser without either is sent to "
                    "/login)",
                    "operationId": "statusPage",
                    "responses": {
                        "200": {"description": "HTML", "content": {"text/html": {}}},
                        "303": {"description": "not signed in: to /login"},
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/login": {
                "get": {
                    "summary": "Sign-in form for people: the status page without a bearer header",
                    "operationId": "loginForm",
                    "security": [],
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                },
                "post": {
                    "summary": "Sign in with the API token (form field `token`): sets an HttpOnly, "
                    "SameSite=Strict session cookie that opens the status page for 12 hours",
                    "operationId": "login",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["token"],
                                    "properties": {"token": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "303": {"description": "signed in: to the status page"},
                        "401": {"description": "wrong token: the form again (HTML)"},
                    },
                },
            },
            "/logout": {
                "post": {
                    "summary": "Sign out: ends the session",
                    "operationId": "logout",
                    "security": [],
                    "responses": {"303": {"description": "signed out: to the sign-in form"}},
                }
            },
            "/docs": {
                "get": {
                    "summary": "This API as a page (HTML)",
                    "operationId": "docsPage",
                    "security": [],
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
            **community_paths(),
            **membership_paths(),
        },
        "components": {
            "schemas": {**_SCHEMAS, **community_schemas()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
