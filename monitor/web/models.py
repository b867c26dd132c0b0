"""The API's bodies as pydantic models: what a write may send (``…In``: unknown fields and loose types
refused) and what an answer holds. The handlers read their bodies through these models and every JSON
answer is checked against its operation's model before it leaves (``openapi.checked_answers``), and the
OpenAPI document is generated from the same models: the document cannot say one thing while the API
does another. Rules that need the config (a region that exists, a window's length) stay with the
records' own checks, shared with the command line."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictStr, ValidationError

from ..errors import InputError

BY = "Who asks (a person's name, for the audit trail; the token's name and the client's address are added)."


def _instant(description: str, optional: bool = False) -> Any:
    """An instant's field: text with its offset (the records' checks parse it, and name what is wrong)."""
    if optional:
        return Field(None, description=description, json_schema_extra=_date_time)
    return Field(description=description, json_schema_extra=_date_time)


def _date_time(schema: dict[str, Any]) -> None:
    """Mark an instant's text as a date-time, on the text itself: beside an optional field's ``anyOf`` the
    format would leave a generator to draw any text and throw away all but date-times (Schemathesis
    stopped an operation for it: too many examples filtered out)."""
    text = next((branch for branch in schema.get("anyOf", ()) if branch.get("type") == "string"), schema)
    text["format"] = "date-time"
    schema["examples"] = ["2026-11-05T01:00:00Z"]


class Body(BaseModel):
    """A request body: strict types, and a field the model does not know is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Answer(BaseModel):
    """An answer's shape, documented exactly."""

    model_config = ConfigDict(extra="forbid")


class _OpenAnswer(BaseModel):
    """A large answer (a month's report, the live status): its top level documented, deeper keys as the
    reports document them (docs/reports.md)."""

    model_config = ConfigDict(extra="allow")


# ---- request bodies -------------------------------------------------------------------------------------

class MaintenanceIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "region": "eu-west", "start": "2030-01-05T01:00:00Z", "end": "2030-01-05T02:00:00Z", "kind": "scheduled",
        "announced_at": "2029-12-01T09:00:00Z", "reason": "database upgrade", "by": "Jane"
    }]})

    region: StrictStr | None = Field(None, description="The region it is for; or `all: true`.")
    all: StrictBool = Field(False, description="Every region (instead of `region`).")
    start: StrictStr = _instant("When it starts (an instant with its offset).")
    end: StrictStr = _instant("When it ends.")
    kind: Literal["scheduled", "emergency"]
    announced_at: StrictStr = _instant("When the provider announced it (the SLA's notice is counted from it).")
    reason: StrictStr = Field(description="What it is for (the report shows it).")
    by: StrictStr | None = Field(None, description=BY)
    long: StrictBool = Field(False, description="Allow a window longer than `storage.max_window_days`.")


class ExclusionIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "region": "eu-west", "start": "2026-11-05T01:00:00Z", "end": "2026-11-05T02:00:00Z",
        "cause": "customer_network", "note": "our firewall change", "by": "Jane"
    }]})

    region: StrictStr | None = Field(None, description="The region it is for; or `all: true`.")
    all: StrictBool = Field(False, description="Every region (instead of `region`).")
    start: StrictStr = _instant("When it starts.")
    end: StrictStr = _instant("When it ends.")
    cause: StrictStr = Field(description="customer, customer_network, force_majeure, third_party:NAME, or counted "
                                         "(to dispute an automatic third-party exclusion).")
    note: StrictStr = Field(description="Why (the report shows it).")
    by: StrictStr | None = Field(None, description=BY)
    long: StrictBool = Field(False, description="Allow a span longer than `storage.max_window_days`.")


class IncidentIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "region": "eu-west", "severity": "P2", "opened": "2026-11-05T10:00:00Z", "title": "calls drop", "by": "Jane"
    }]})

    region: StrictStr
    component: StrictStr | None = None
    severity: Literal["P1", "P2", "P3", "P4"]
    opened: StrictStr = _instant("When it was opened.")
    resolved: StrictStr | None = _instant("When it was resolved (none: still open).", optional=True)
    title: StrictStr = ""
    by: StrictStr | None = Field(None, description=BY)


class IncidentChange(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "resolved": "2026-11-05T13:00:00Z", "severity": "P1", "by": "Jane"
    }]})

    resolved: StrictStr | None = _instant("When it was resolved.", optional=True)
    severity: Literal["P1", "P2", "P3", "P4"] | None = None
    by: StrictStr | None = Field(None, description=BY)


class UpdateIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "region": "eu-west", "status": "identified", "message": "A faulty media relay; failing over."
    }]})

    region: StrictStr
    status: StrictStr = Field(description="investigating, identified, monitoring or resolved.")
    message: StrictStr
    outage_start: StrictStr | None = _instant("The outage it is about (default: the region's latest).", optional=True)
    by: StrictStr | None = Field(None, description=BY)


class VendorIncidentIn(Body):
    start: StrictStr = _instant("When it started, as they report it.")
    end: StrictStr = _instant("When it ended.")
    title: StrictStr = ""


class VendorReportIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "month": "2026-10", "region": "eu-west", "availability": "99.95", "stated_downtime_minutes": 21.5,
        "incidents": [{"start": "2026-10-07T10:00:00Z", "end": "2026-10-07T10:21:30Z", "title": "media"}],
        "note": "their monthly PDF"
    }]})

    month: StrictStr = Field(description="YYYY-MM, a month that has begun.", examples=["2026-10"])
    region: StrictStr
    availability: StrictStr | float = Field(description="Their availability in percent, as they wrote it.")
    stated_downtime_minutes: StrictStr | float | None = None
    incidents: list[VendorIncidentIn] | None = None
    note: StrictStr = ""
    by: StrictStr | None = Field(None, description=BY)


def parsed(model: type[Body], body: object) -> dict:
    """``body`` read through ``model``: the fields it sent (defaults left out, so the records' own checks
    see what was written), or an ``InputError`` naming the first wrong field and what it must be."""
    try:
        return model.model_validate(body).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise InputError(_first_error(exc, model)) from None


_EXPECTED = {"bool_type": "true or false", "string_type": "text", "float_type": "a number", "int_type": "a whole number",
             "list_type": "a list", "model_type": "a JSON object", "dict_type": "a JSON object",
             "literal_error": "one of {expected}"}


def _first_error(exc: ValidationError, model: type[Body]) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "extra_forbidden":
        return f"unknown field {where!r} (allowed: {', '.join(sorted(model.model_fields))})"
    if error["type"] == "missing":
        return f"{where} is required"
    if error["loc"] == ():
        return "body must be a JSON object"
    expected = _EXPECTED.get(error["type"])
    if expected is None:
        return f"{where}: {error['msg']}"
    return f"{where} must be {expected.format(**error.get('ctx', {}))}, not {error['input']!r}"[:300]


# ---- answers ---------------------------------------------------------------------------------------------

class Problem(_OpenAnswer):
    """An error (RFC 9457); ``error`` repeats ``detail`` for clients older than this shape."""

    type: str
    title: str
    status: int
    detail: str
    error: str
    missing_scope: str | None = Field(None, description="The scope the token lacks (a 403).")


class Readiness(_Answer):
    ready: bool
    problems: list[str] = []


class Window(_Answer):
    """A maintenance window as recorded, with whether and why it excludes."""

    id: int
    region: str | None
    kind: Literal["scheduled", "emergency"]
    start: str
    end: str
    announced_at: str | None
    reason: str
    excluded: bool
    flags: list[str]
    cancelled: bool


class Cancelled(_Answer):
    cancelled: int


class Exclusion(_Answer):
    id: int
    region: str | None
    all_regions: bool
    start: str
    end: str
    cause: str
    note: str
    created_by: str | None
    created_at: str | None
    withdrawn: str | None = Field(description="When it was withdrawn (none: it excludes).")
    managed_by: str | None = Field(description="SOURCE:KEY when a records file manages it (`records apply`).")


class Withdrawn(_Answer):
    withdrawn: int


class Communication(_Answer):
    response_minutes: float | None
    response_met: bool | None
    updates: int
    longest_silence_minutes: float | None
    updates_met: bool | None


class Incident(_Answer):
    """An incident (automatic: an outage; hand: a support ticket) with the SLA's resolution terms."""

    region: str
    id: str
    source: str
    severity: str
    component: str | None
    title: str
    opened: str
    resolved: str | None
    target_minutes: float | None
    resolution_minutes: float
    excluded_minutes: float
    met: bool | None
    counts: bool
    response_target_minutes: float
    update_interval_minutes: float
    ticket: str | None = Field(description="TOOL:ID of the help-desk ticket it was imported from.")
    communication: Communication | None


class IncidentCreated(_Answer):
    id: int


class IncidentChanged(_Answer):
    id: str
    resolved: str | None
    severity: str | None


class Override(_OpenAnswer):
    """A correction of an automatic incident (its resolution, its severity)."""

    incident_id: str
    resolved: str | None
    severity: str | None
    updated_by: str | None
    updated_at: str | None
    managed_by: str | None


class Update(_Answer):
    region: str
    outage_start: str
    at: str
    status: str
    message: str


class VendorReport(_Answer):
    """The provider's own report of a region's month, as recorded."""

    id: int
    month: str
    region: str
    availability_percent: str = Field(description="As they wrote it (a decimal, exactly).")
    stated_downtime_minutes: float | None
    incidents: list[dict[str, Any]] | None
    note: str | None
    created_by: str | None
    created_at: str | None


class VendorReportSaved(VendorReport):
    replaced: bool = Field(description="It replaced an earlier report of the same month and region.")


class Piece(_OpenAnswer):
    start: str
    end: str
    minutes: float
    counted: bool


class Outage(_OpenAnswer):
    """An outage period of a region, with its exclusions and the pieces that count."""

    region: str
    start: str
    end: str
    minutes: float
    open: bool
    exclusions: list[dict[str, Any]]
    pieces: list[Piece]


class Credit(_OpenAnswer):
    eligible: bool
    total_percent: float
    amount: str | None
    currency: str | None


class RegionMonth(_OpenAnswer):
    region: str
    availability_percent: float | None
    met: bool | None
    downtime_minutes: float
    downtime_ms: int
    error_budget_remaining_minutes: float
    unknown_minutes: float
    coverage_percent: float | None
    periods: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    credit: Credit


class MonthReport(_OpenAnswer):
    """A month's report (docs/reports.md has every key)."""

    month: str
    timezone: str
    generated_at: str
    target_percent: float
    threshold_minutes: float
    month_to_date: bool
    in_progress: bool
    as_of: str | None
    regions: list[RegionMonth]
    components: list[dict[str, Any]]


class RangeRow(_Answer):
    month: str
    region: str
    availability_percent: float | None
    met: bool | None
    downtime_minutes: float
    excluded_minutes: float
    unknown_minutes: float
    coverage_percent: float | None
    credit_percent: float
    credit_amount: str | None
    currency: str | None


class Overall(_Answer):
    state: Literal["up", "down", "unknown"]
    text: str


class Status(_OpenAnswer):
    """Every region, component, probe and third party as of the live figures."""

    service: str
    vantage: str | None
    now: str
    as_of: str | None
    overall: Overall
    regions: list[dict[str, Any]]
    third_parties: list[dict[str, Any]]


class Availability(RootModel[MonthReport | list[RangeRow]]):
    """A month's report, or with ``from`` and ``to`` a range overview: a row per month and region."""
