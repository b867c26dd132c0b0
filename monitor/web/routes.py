"""Which path is which handler: one table (``OPERATIONS``) that registers every route and writes the
OpenAPI document of them (``openapi.py``), with each answer's model and each status it may give."""
from __future__ import annotations

from typing import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler

from .. import __version__
from . import handlers as h
from . import models as m
from .handlers import DEPS, GRANTS, LOCKS, WebDeps, error_boundary, json_response
from .openapi import Answer, Operation, Param, checked_answers, document, register
from .private import Readers, gate
from .ratelimit import Buckets
from .tokens import grants

MONTH = Param("month", "query", "YYYY-MM (default: this month).",
              {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "examples": ["2026-10"]})
RANGE = (Param("from", "query", "The first month of a range overview, YYYY-MM (with `to`: one row per month "
                                "and region)."),
         Param("to", "query", "The last month of the range, YYYY-MM."))
INCIDENT_ID = Param("id", "path", "A hand incident's number, or an automatic one's REGION/COMPONENT/START "
                    "(its slashes as they are or as %2F).",
                    {"type": "string", "minLength": 1, "examples": ["12", "eu-west/api/2026-11-05T10:00:00Z"]},
                    required=True)
REGION = Param("region", "query", "One region's only (a configured region's name).")
BY_ID = {"id": "$response.body#/id"}


async def openapi_json(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document, its regions the config's."""
    return json_response(api_document([r.name for r in request.app[DEPS].cfg.regions]))


def api_document(regions: Sequence[str] = ()) -> dict:
    """The OpenAPI document of every operation (served with the config's ``regions``, and rendered into
    docs/api.md without)."""
    return document(OPERATIONS, __version__, regions)


def _get(path: str, handler: Handler, op_id: str, summary: str, tag: str, answer: Answer, *errors: int,
         params: tuple[Param, ...] = ()) -> Operation:
    return Operation("GET", path, handler, op_id, summary, tag, (answer,), errors, params=params)


def _json(description: str, model: type, many: bool = False, **links: tuple[str, dict]) -> Answer:
    return Answer(200, description, model, many, links=links)


def _created(description: str, model: type, **links: tuple[str, dict]) -> Answer:
    return Answer(201, description, model, links=links)


def _text(description: str, media: str) -> Answer:
    return Answer(200, description, media=media)


OPERATIONS: tuple[Operation, ...] = (
    # Figures
    _get("/api/v1/status", h.status, "getStatus", "Every region's live state, components, probes and third "
         "parties", "figures", _json("The live status.", m.Status)),
    _get("/api/v1/availability", h.availability, "getAvailability", "A month's report (or a range overview "
         "with from and to)", "figures", _json("The month's report (with from and to: a row per month and "
                                               "region).", m.Availability), 400, 503, params=(MONTH, *RANGE)),
    _get("/api/v1/outages", h.outages, "listOutages", "A month's outages with their exclusions and counted "
         "pieces", "figures", _json("The outages.", m.Outage, many=True), 400, 503, params=(MONTH, REGION)),
    _get("/api/v1/report.pdf", h.report_pdf, "getReportPdf", "A month's report as PDF", "figures",
         _text("The report.", "application/pdf"), 400, 503, params=(MONTH,)),
    # Maintenance
    _get("/api/v1/maintenance", h.maintenance_get, "listMaintenance", "Every maintenance window", "maintenance",
         _json("The windows, by start.", m.Window, many=True), 503),
    Operation("POST", "/api/v1/maintenance", h.maintenance_post, "createMaintenance", "Record a maintenance window",
              "maintenance", (_created("The window.", m.Window, read=("getMaintenance", BY_ID),
                                       cancel=("cancelMaintenance", BY_ID)),), (503,),
              scope="write:maintenance", body=m.MaintenanceIn),
    _get(r"/api/v1/maintenance/{id:\d+}", h.maintenance_one, "getMaintenance", "A maintenance window",
         "maintenance", _json("The window.", m.Window), 404, 503),
    Operation("DELETE", r"/api/v1/maintenance/{id:\d+}", h.maintenance_delete, "cancelMaintenance",
              "Cancel a maintenance window", "maintenance", (_json("Cancelled.", m.Cancelled),), (404, 503),
              scope="write:maintenance"),
    _get("/maintenance.ics", h.maintenance_calendar, "getMaintenanceCalendar", "Upcoming and recent windows as "
         "iCalendar", "maintenance", _text("The calendar.", "text/calendar"), 400, 503, params=(REGION,)),
    # Records
    _get("/api/v1/exclusions", h.exclusions_get, "listExclusions", "Every exclusion (withdrawn ones too)",
         "records", _json("The exclusions, by start.", m.Exclusion, many=True), 503),
    Operation("POST", "/api/v1/exclusions", h.exclusion_post, "createExclusion", "Record an exclusion (or a "
              "dispute: cause counted)", "records",
              (_created("The exclusion.", m.Exclusion, read=("getExclusion", BY_ID),
                        withdraw=("withdrawExclusion", BY_ID)),), (503,),
              scope="write:records", body=m.ExclusionIn),
    _get(r"/api/v1/exclusions/{id:\d+}", h.exclusion_one, "getExclusion", "An exclusion", "records",
         _json("The exclusion.", m.Exclusion), 404, 503),
    Operation("DELETE", r"/api/v1/exclusions/{id:\d+}", h.exclusion_delete, "withdrawExclusion",
              "Withdraw an exclusion (kept for the record)", "records", (_json("Withdrawn.", m.Withdrawn),),
              (404, 409, 503), scope="write:records"),
    _get("/api/v1/incidents", h.incidents_get, "listIncidents", "A month's incidents, automatic and hand-entered",
         "records", _json("The incidents.", m.Incident, many=True), 400, 503, params=(MONTH,)),
    Operation("POST", "/api/v1/incidents", h.incident_post, "createIncident", "Record a hand incident (a support "
              "ticket)", "records", (_created("Its number.", m.IncidentCreated,
                                              change=("changeIncident", BY_ID)),), (503,),
              scope="write:records", body=m.IncidentIn),
    Operation("PATCH", "/api/v1/incidents/{id:.+}", h.incident_patch, "changeIncident", "Resolve or re-classify "
              "an incident (a hand one by number, an automatic one by REGION/COMPONENT/START)", "records",
              (_json("What it is now.", m.IncidentChanged),), (400, 404, 503), scope="write:records",
              body=m.IncidentChange, params=(INCIDENT_ID,)),
    _get("/api/v1/overrides", h.overrides_get, "listOverrides", "The corrections of automatic incidents",
         "records", _json("The overrides, by incident.", m.Override, many=True), 503),
    Operation("POST", "/api/v1/updates", h.update_post, "createUpdate", "Post an incident update on an outage",
              "records", (_created("The update.", m.Update),), (503,), scope="write:records", body=m.UpdateIn),
    _get("/api/v1/vendor-reports", h.vendor_reports_get, "listVendorReports", "The provider's own monthly "
         "reports", "records", _json("The reports, by month and region.", m.VendorReport, many=True), 503),
    Operation("POST", "/api/v1/vendor-reports", h.vendor_report_post, "createVendorReport", "Record the provider's "
              "report of a region's month (replacing an earlier one)", "records",
              (_created("The report.", m.VendorReportSaved),), (503,), scope="write:records", body=m.VendorReportIn),
    # The service itself
    _get("/api/v1/openapi.json", openapi_json, "getOpenApi", "This document", "service",
         _text("The OpenAPI 3.1 document.", "application/json")),
    _get("/healthz", h.healthz, "getHealth", "Alive (the process answers)", "service", _text("ok", "text/plain")),
    Operation("GET", "/readyz", h.readyz, "getReadiness", "Ready (the store open, the figures computed)", "service",
              (_json("Ready.", m.Readiness), Answer(503, "Not ready, and why.", m.Readiness))),
    _get("/metrics", h.metrics, "getMetrics", "Prometheus metrics", "service",
         _text("The metrics, in Prometheus' text format.", "text/plain")),
    _get("/evidence/public-key", h.evidence_public_key, "getEvidencePublicKey", "The public key the months' "
         "evidence is signed with", "service", _text("The key (PEM).", "application/x-pem-file"), 404),
    # Pages and feeds
    _get("/", h.status_page, "getStatusPage", "The status page", "pages", _text("The page.", "text/html")),
    _get("/runbooks", h.runbooks, "getRunbooks", "What to do for each alert", "pages",
         _text("The runbooks.", "text/html")),
    _get("/feed.atom", h.feed, "getFeed", "Every region's outages and updates (Atom)", "pages",
         _text("The feed.", "application/atom+xml")),
    _get("/feed/{region}.atom", h.feed, "getRegionFeed", "A region's outages and updates (Atom)", "pages",
         _text("The feed.", "application/atom+xml"), 404),
    _get("/badge/{region}/{kind}.svg", h.badge, "getBadge", "A region's availability or state badge (kind: "
         "availability or state)", "pages", _text("The badge.", "image/svg+xml"), 404),
)


def build_app(deps: WebDeps) -> web.Application:
    """The routes of ``OPERATIONS``, reading only ``deps``."""
    web_cfg = deps.cfg.web
    configured = grants(web_cfg)
    limit = web_cfg.rate_limit
    buckets = None if limit is None else Buckets(limit.per_minute, limit.burst)
    guard = gate(Readers(web_cfg, configured), not web_cfg.public, buckets, deps.clock)
    app = web.Application(middlewares=[guard, error_boundary, checked_answers])
    app[DEPS] = deps
    app[GRANTS] = configured
    app[LOCKS] = {}
    register(app, OPERATIONS)
    return app
