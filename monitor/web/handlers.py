"""The web side's handlers: /metrics, /healthz, /readyz, /api/v1/…, and the status page at /
(``routes.py`` says which path is which handler, and documents them)."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST

from ..accounting import range_months
from ..clock import Clock
from ..config import Config
from ..errors import InputError, automatic_incident
from ..live.figures import LiveFigures
from ..live.maintenance import MaintenanceService
from ..live.records import RecordService
from ..live.reports import Busy, ReportService
from ..live.updating import UpdateService
from ..paperwork import terms_of
from ..reports.html import report_html, to_pdf
from ..reports.serialize import incident_rows, outage_rows, range_rows, report_json
from ..sla.calendar import MonthError, iso, month_of
from ..sla.result import MonthResult
from ..storage import StoreError, StoreUnavailable
from ..storage.errors import LARGEST_INTEGER, AlreadyDone, NotFound
from ..storage.records import is_hand_id
from ..values import api_author
from ..vendor_reports import report_row
from .badges import KINDS as BADGE_KINDS
from .badges import availability_badge, render_badge, state_badge
from .feed import render_feed
from .idempotency import once
from .maintenance import add_window, cancel_window
from .models import Body, ExclusionIn, IncidentChange, IncidentIn, MaintenanceIn, UpdateIn, VendorReportIn, parsed
from .problems import PROBLEM_TYPE, problem, problem_body
from .records import correction, exclusion_json, exclusion_values, incident_values, override_json, vendor_report_json
from .status import render_runbooks, render_status_page, status_json
from .tokens import Grant, allows, holder


@dataclass(frozen=True)
class WebDeps:
    """What the web app reads, and nothing more of the daemon."""

    cfg: Config
    clock: Clock
    figures: LiveFigures  # the snapshot behind /api/v1/status and the status page
    reports: ReportService  # /api/v1/availability and /outages
    maintenance: MaintenanceService  # /api/v1/maintenance
    updates: UpdateService  # POST /api/v1/updates
    records: RecordService  # /api/v1/exclusions, and the answers kept for Idempotency-Key
    metrics_text: Callable[[], bytes]
    readiness: Callable[[], list[str]]  # what keeps the daemon from being ready
    public_url: Callable[[], str]  # where people reach the monitor (links in feeds), known once it listens


DEPS = web.AppKey("deps", WebDeps)
GRANTS = web.AppKey("grants", tuple)  # the configured tokens, hashed once (web/tokens.py)
LOCKS = web.AppKey("idempotency_locks", dict)  # (token, key) → the lock its first request holds
log = logging.getLogger("sla_monitor.web")


def json_response(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data, option=orjson.OPT_INDENT_2), status=status,
                        content_type="application/json")


def error(status: int, message: str) -> web.Response:
    """An error answer: a problem document (``problems.py``)."""
    return problem(status, message)


def busy(exc: Exception) -> web.Response:
    response = error(503, str(exc))
    response.headers["Retry-After"] = "2"
    return response


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DEPS].metrics_text(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def runbooks(request: web.Request) -> web.Response:
    """What to do for each alert of the Prometheus rules (their runbook_url points here)."""
    return web.Response(text=render_runbooks(request.app[DEPS].cfg.service), content_type="text/html")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    problems = request.app[DEPS].readiness()
    if problems:
        return json_response({"ready": False, "problems": problems}, 503)
    return json_response({"ready": True})


async def status(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    return json_response(status_json(deps.figures, deps.cfg, deps.clock.now_ms()))


async def availability(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    if "from" in request.query or "to" in request.query:  # a range overview: one row per month and region
        first, last = request.query.get("from", ""), request.query.get("to", "")
        try:
            months = range_months(first, last, deps.clock.now_ms(), deps.cfg.timezone)
            results = [await deps.reports.month(f"{y:04d}-{m:02d}") for y, m in months]
        except (MonthError, InputError) as exc:
            return error(400, str(exc))
        except Busy as exc:
            return busy(exc)
        return json_response(range_rows(results))
    report = await _month(request)
    return report if isinstance(report, web.Response) else json_response(report_json(report))


async def _month(request: web.Request) -> MonthResult | web.Response:
    """The report of ``?month=`` (default: this month), or the answer that refuses it (400, or 503 busy)."""
    try:
        return await request.app[DEPS].reports.month(request.query.get("month"))
    except (MonthError, InputError) as exc:
        return error(400, str(exc))
    except Busy as exc:
        return busy(exc)


async def report_pdf(request: web.Request) -> web.Response:
    """The month's report as the PDF `report --format pdf` writes (``?month=YYYY-MM``; default: this month):
    the link a scheduled mail gives when the server refuses the attachment."""
    deps = request.app[DEPS]
    report = await _month(request)
    if isinstance(report, web.Response):
        return report
    pdf = await asyncio.to_thread(to_pdf, report_html(report, terms_of(deps.cfg)))  # WeasyPrint: seconds, off the loop
    name = f"sla-report-{report.year:04d}-{report.month:02d}.pdf"
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})


async def outages(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    region = request.query.get("region")
    if region is not None and region not in {r.name for r in deps.cfg.regions}:
        return error(400, f"region {region!r} is not configured")
    try:
        report = await deps.reports.month(request.query.get("month"))
    except (MonthError, InputError) as exc:
        return error(400, str(exc))
    except Busy as exc:
        return busy(exc)
    return json_response(outage_rows(report, region))


def _authorized(request: web.Request, scope: str) -> Grant | web.Response:
    """The grant of the request's bearer token when it may use ``scope``; else the refusal to send: 401
    without a known token, 403 (a problem document naming the scope) for a token without it."""
    configured = request.app[GRANTS]
    if not configured:
        return error(403, "writes are disabled: set web.tokens, or web.api_token (e.g. \"${SLA_MONITOR_API_TOKEN}\")")
    grant = holder(configured, request.headers.get("Authorization", ""))
    if grant is None:
        return problem(401, "bearer token required", headers={"WWW-Authenticate": 'Bearer realm="sla-monitor"'})
    if not allows(grant, scope):
        detail = f"token {grant.name!r} lacks the scope {scope} (it has: {', '.join(sorted(grant.scopes))})"
        log.warning("event=api_refused token=%s from=%s scope=%s path=%s", grant.name, request.remote, scope,
                    request.path)
        return problem(403, detail, missing_scope=scope)
    log.info("event=api_write token=%s from=%s scope=%s method=%s path=%s", grant.name, request.remote, scope,
             request.method, request.path)
    return grant


async def maintenance_get(request: web.Request) -> web.Response:
    return json_response(await request.app[DEPS].maintenance.windows())


def _record_id(request: web.Request, what: str) -> int:
    """The path's record number; one past the stores' integers is no record (404), not a store error."""
    record_id = int(request.match_info["id"])
    if record_id > LARGEST_INTEGER:
        raise web.HTTPNotFound(text=problem_body(404, f"no {what} with id {record_id}").decode(),
                               content_type=PROBLEM_TYPE)
    return record_id


async def maintenance_one(request: web.Request) -> web.Response:
    window_id = _record_id(request, "maintenance window")
    window = await request.app[DEPS].maintenance.window(window_id)
    return error(404, f"no maintenance window with id {window_id}") if window is None else json_response(window)


async def maintenance_calendar(request: web.Request) -> web.Response:
    """Upcoming and recent windows as iCalendar (``?region=`` for one region's, with every region's)."""
    deps = request.app[DEPS]
    region = request.query.get("region")
    if region is not None and region not in {r.name for r in deps.cfg.regions}:
        raise InputError(f"region {region!r} is not in the config (regions: {', '.join(r.name for r in deps.cfg.regions)})")
    return web.Response(body=await deps.maintenance.calendar(region), content_type="text/calendar", charset="utf-8",
                        headers={"Content-Disposition": 'inline; filename="maintenance.ics"'})


def _who(request: web.Request, grant: Grant) -> str:
    """The audit trail's name of a write: the token's name and the address it came from."""
    return f"{grant.name} from {request.remote or 'unknown'}"


async def _body(request: web.Request, model: type[Body]) -> dict:
    """The request's JSON body read through ``model`` (``InputError``: what is wrong with it)."""
    try:
        raw = await request.json(loads=orjson.loads)
    except ValueError as exc:
        raise InputError(f"the body is not JSON ({str(exc)[:80]})") from None
    return parsed(model, raw)


async def _create(request: web.Request, scope: str, model: type[Body],
                  make: Callable[[dict, str], Awaitable[object]]) -> web.Response:
    """A POST that creates a record: its scope checked, its body read through ``model``, ``make(fields,
    author)`` run once per Idempotency-Key, 201 with what it made, 400 with what is wrong."""
    if isinstance(grant := _authorized(request, scope), web.Response):
        return grant

    async def write() -> web.Response:
        try:
            created = await make(await _body(request, model), _who(request, grant))
        except (ValueError, InputError) as exc:
            return error(400, str(exc))
        return json_response(created, 201)

    return await once(request, request.app[DEPS].records, grant.name, request.app[LOCKS], write)


async def maintenance_post(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    return await _create(request, "write:maintenance", MaintenanceIn,
                         lambda fields, who: add_window(deps.maintenance, deps.cfg, fields, who))


async def update_post(request: web.Request) -> web.Response:
    """An incident update on an outage (``incident update``'s, through the API)."""
    return await _create(request, "write:records", UpdateIn, request.app[DEPS].updates.post)


async def exclusions_get(request: web.Request) -> web.Response:
    return json_response([exclusion_json(r) for r in await request.app[DEPS].records.exclusions()])


async def exclusion_one(request: web.Request) -> web.Response:
    exclusion_id = _record_id(request, "exclusion")
    found = [exclusion_json(r) for r in await request.app[DEPS].records.exclusions() if r["id"] == exclusion_id]
    return json_response(found[0]) if found else error(404, f"no exclusion with id {exclusion_id}")


async def exclusion_post(request: web.Request) -> web.Response:
    """An exclusion (``exclusion add``'s fields and rules, through the API)."""
    deps = request.app[DEPS]

    async def make(fields: dict, who: str) -> dict:
        values = exclusion_values(deps.cfg, fields)
        return exclusion_json(await deps.records.add_exclusion(values, api_author(fields.get("by"), who)))

    return await _create(request, "write:records", ExclusionIn, make)


async def incidents_get(request: web.Request) -> web.Response:
    """The month's incidents (``?month=``), automatic and hand-entered, as `incident list` gives them."""
    report = await _month(request)
    return report if isinstance(report, web.Response) else json_response(incident_rows(report))


async def incident_post(request: web.Request) -> web.Response:
    """A hand incident (a support ticket): `incident add`'s fields and rules, through the API."""
    deps = request.app[DEPS]

    async def make(fields: dict, who: str) -> dict:
        values = incident_values(deps.cfg, fields)
        return {"id": await deps.records.add_incident(values, api_author(fields.get("by"), who))}

    return await _create(request, "write:records", IncidentIn, make)


async def incident_patch(request: web.Request) -> web.Response:
    """Resolve or re-classify an incident: a hand one by its number, an automatic one by its id
    (REGION/COMPONENT/START), which must be in its month's report."""
    if isinstance(grant := _authorized(request, "write:records"), web.Response):
        return grant
    deps, incident_id = request.app[DEPS], request.match_info["id"]
    resolved, severity, by = correction(await _body(request, IncidentChange))
    opened = await _incident_opened(deps, incident_id)
    if opened is None:
        return error(404, f"no incident {incident_id!r} (GET /api/v1/incidents?month=YYYY-MM lists them)")
    if resolved is not None and resolved <= opened:
        return error(400, f"resolved {iso(resolved)} is not after the incident opened ({iso(opened)})")
    try:
        await deps.records.correct_incident(incident_id, resolved, severity, api_author(by, _who(request, grant)))
    except StoreError as exc:  # none with that number: 404; resolved before it opened: 400
        return error(404 if isinstance(exc, NotFound) else 400, str(exc))
    return json_response({"id": incident_id, "resolved": iso(resolved), "severity": severity})


async def _incident_opened(deps: WebDeps, incident_id: str) -> int | None:
    """When the incident ``incident_id`` opened (None: there is none); a hand one is checked by the store."""
    if is_hand_id(incident_id):
        return 0  # the store knows it: it refuses a number it does not hold, or a resolution before the opening
    region, _, start = automatic_incident(incident_id, "incident")
    if region not in {r.name for r in deps.cfg.regions}:
        return None
    year, month = month_of(start, ZoneInfo(deps.cfg.timezone))
    found = (await deps.reports.month(f"{year:04d}-{month:02d}")).incident(incident_id)
    return None if found is None else found.opened_ms


async def exclusion_delete(request: web.Request) -> web.Response:
    """Withdraw an exclusion: kept for the record, it excludes nothing from then on."""
    if isinstance(grant := _authorized(request, "write:records"), web.Response):
        return grant
    exclusion_id = _record_id(request, "exclusion")
    try:
        await request.app[DEPS].records.withdraw_exclusion(exclusion_id)
    except StoreError as exc:  # none with that id: 404; withdrawn already: 409
        return error(409 if isinstance(exc, AlreadyDone) else 404, str(exc))
    log.info("event=exclusion_withdrawn id=%d token=%s from=%s", exclusion_id, grant.name, request.remote)
    return json_response({"withdrawn": exclusion_id})


async def overrides_get(request: web.Request) -> web.Response:
    """The corrections of automatic incidents (made by PATCH /api/v1/incidents/{id}, `incident resolve`,
    or a records file)."""
    return json_response([override_json(r) for r in await request.app[DEPS].records.overrides()])


async def vendor_reports_get(request: web.Request) -> web.Response:
    return json_response([vendor_report_json(r) for r in await request.app[DEPS].records.vendor_reports()])


async def vendor_report_post(request: web.Request) -> web.Response:
    """The vendor's own report of a region's month (`vendor-report add`'s fields and rules, through the
    API); a second one of the same month and region replaces the first."""
    deps = request.app[DEPS]

    async def make(fields: dict, who: str) -> dict:
        by = fields.pop("by", None)
        row = report_row(fields, "body", [r.name for r in deps.cfg.regions], ZoneInfo(deps.cfg.timezone),
                         deps.clock.now_ms())
        stored, replaced = await deps.records.set_vendor_report(row, api_author(by, who))
        return {**vendor_report_json(stored), "replaced": replaced}

    return await _create(request, "write:records", VendorReportIn, make)


async def maintenance_delete(request: web.Request) -> web.Response:
    if isinstance(grant := _authorized(request, "write:maintenance"), web.Response):
        return grant
    try:
        window_id = _record_id(request, "maintenance window")
        await cancel_window(request.app[DEPS].maintenance, window_id, _who(request, grant))
    except InputError as exc:
        return error(404, str(exc))
    return json_response({"cancelled": window_id})


def _region_or_404(request: web.Request) -> str | None:
    """The path's ``region`` if the config has it; a 404 otherwise (raised)."""
    region = request.match_info.get("region")
    known = [r.name for r in request.app[DEPS].cfg.regions]
    if region is not None and region not in known:
        raise web.HTTPNotFound(text=problem_body(404, f"no region {region!r} (regions: {', '.join(known)})").decode(),
                               content_type=PROBLEM_TYPE)
    return region


def _cached(deps: WebDeps) -> dict[str, str]:
    """Caches may keep a feed or badge until the figures behind it are refreshed."""
    return {"Cache-Control": f"public, max-age={max(1, deps.cfg.daemon.refresh_interval // 1000)}"}


async def feed(request: web.Request) -> web.Response:
    """The Atom feed of every region (/feed.atom) or of one (/feed/REGION.atom)."""
    deps = request.app[DEPS]
    region = _region_or_404(request)
    body = render_feed(deps.figures, deps.cfg, region, deps.public_url(), deps.clock.now_ms())
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8", headers=_cached(deps))


async def badge(request: web.Request) -> web.Response:
    """/badge/REGION/availability.svg (this month's SLA figure) and /badge/REGION/state.svg."""
    deps = request.app[DEPS]
    region = _region_or_404(request)
    assert region is not None
    kind = request.match_info["kind"]
    if kind not in BADGE_KINDS:
        return error(404, f"no badge {kind!r} (badges: {', '.join(BADGE_KINDS)})")
    made = (availability_badge(deps.figures, deps.cfg, region) if kind == "availability"
            else state_badge(deps.figures, deps.cfg, region, deps.clock.now_ms()))
    return web.Response(text=render_badge(made), content_type="image/svg+xml", charset="utf-8", headers=_cached(deps))


async def evidence_public_key(request: web.Request) -> web.Response:
    """The public key each month's close of the evidence chain is signed with (PEM), for the vendor."""
    key = request.app[DEPS].cfg.evidence.signing_key
    if key is None:
        return error(404, "no signing key: the months are not signed (evidence.signing_key is not set)")
    from ..signing import load, public_pem  # only when a key is set: cryptography is a probe library

    return web.Response(text=public_pem(load(key)), content_type="application/x-pem-file")


async def status_page(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    return web.Response(text=render_status_page(deps.figures, deps.cfg, deps.clock.now_ms()), content_type="text/html")


@web.middleware
async def error_boundary(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One place for what a request can go wrong with: bad input is a 400 with the reason, a busy or
    unavailable store a 503, and only a bug a 500 (logged with its traceback, its text not shown)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == PROBLEM_TYPE:
            raise
        # aiohttp's own refusals (no such route, a method not allowed, a body too large) in the one shape,
        # their headers (Allow) kept.
        headers = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
        return problem(exc.status, exc.text or exc.reason, headers=headers)
    except (InputError, MonthError, ValueError, UnicodeError) as exc:
        return error(400, str(exc)[:500])
    except Busy as exc:
        return busy(exc)
    except (StoreUnavailable, sqlite3.OperationalError) as exc:
        return error(503, f"store unavailable: {exc}"[:500])
    except Exception:
        log.exception("event=api_internal_error path=%s", request.path)
        return error(500, "internal error (logged)")
