"""The API described once: each operation (method, path, handler, scope, body and answers) is a row of
one table (``routes.OPERATIONS``) that both registers the route and writes the OpenAPI 3.1 document served
at /api/v1/openapi.json (and rendered into docs/api.md). Every JSON answer is checked against the model
its row names before it leaves (``checked_answers``), so the document and the API cannot drift apart."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from ..storage.errors import LARGEST_INTEGER
from .models import Problem
from .private import OPEN
from .problems import PROBLEM_TYPE, problem

JSON = "application/json"
REF = "#/components/schemas/{model}"
log = logging.getLogger("sla_monitor.web")

# Why each error status is answered, in the document's words.
ERRORS = {
    400: "The request is wrong: the problem's detail says which field and why.",
    401: "No credentials (a write without a bearer token, or any read of a private page).",
    403: "The token lacks the scope (named in missing_scope), or writes are disabled.",
    404: "There is no such record.",
    409: "The record is in that state already.",
    413: "The body is too large.",
    422: "The Idempotency-Key was sent before with another request.",
    429: "Too many requests without credentials from this address: try again after Retry-After seconds.",
    503: "The store is busy or unavailable: try again after Retry-After seconds.",
}


@dataclass(frozen=True)
class Param:
    """A query, header or path parameter (a path's own parameters are documented from its pattern unless
    the operation names one itself: to show its form, say)."""

    name: str
    where: str  # query, header, path
    description: str
    schema: dict = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Answer:
    """A success answer: its status, what it is, and its model (``many``: a list of it) or media type."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    many: bool = False
    media: str = JSON
    links: dict = field(default_factory=dict)  # name → (operationId, {parameter: runtime expression})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # aiohttp's form: {id:\d+}
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    answers: tuple[Answer, ...]
    errors: tuple[int, ...] = ()
    scope: str | None = None  # a write: the token's scope it needs
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()

    @property
    def idempotent_post(self) -> bool:
        return self.method == "POST"

    def statuses(self) -> dict[int, Answer | None]:
        """Every status it may answer: its successes, and its errors (None) with those of its kind."""
        # A private page refuses any read without credentials, and those are rate-limited (not the probes').
        errors = set(self.errors) | ({401, 429} if self.path not in OPEN else set())
        if self.scope:
            errors |= {401, 403}
        if self.body is not None:
            errors |= {400, 413}
        if self.idempotent_post:
            errors |= {400, 422}
        if self.params:
            errors.add(400)
        return dict(sorted({**{status: None for status in errors}, **{a.status: a for a in self.answers}}.items()))


def openapi_path(path: str) -> str:
    """aiohttp's path (``{id:\\d+}``) as OpenAPI writes it (``{id}``)."""
    return re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)


def _path_params(path: str) -> list[dict]:
    params = []
    for name, pattern in re.findall(r"\{(\w+)(?::([^}]*))?\}", path):
        schema = ({"type": "integer", "minimum": 0, "maximum": LARGEST_INTEGER} if pattern == r"\d+"
                  else {"type": "string", "minLength": 1})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


IDEMPOTENCY = Param("Idempotency-Key", "header", "Send a POST again with the same key (a UUID, say) and it "
                    "creates nothing more: the first answer is replayed, with Idempotent-Replayed: true.",
                    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"})


def document(operations: tuple[Operation, ...], version: str, regions: Sequence[str] = ()) -> dict:
    """The OpenAPI 3.1 document of ``operations``; with ``regions`` (the config's), every region a body,
    query or path names is one of them, so that a client (or a fuzzer) knows the values that exist."""
    models: set[type[BaseModel]] = {Problem}
    for op in operations:
        models |= {model for model in [op.body, *(a.model for a in op.answers)] if model is not None}
    named = sorted(models, key=lambda model: model.__name__)
    _, top = models_json_schema([(m, "validation") for m in named], ref_template=REF)
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = _operation(op)
    if regions:
        _name_regions([*top.get("$defs", {}).values(), *(p for ops in paths.values() for op in ops.values()
                                                          for p in op.get("parameters", []))], list(regions))
    return {
        "openapi": "3.1.0",
        "info": {"title": "sla-monitor API", "version": version,
                 "description": "Availability, outages, incidents and the records behind them (maintenance, "
                                "exclusions, incidents, vendor reports). Reads are open unless the page is "
                                "private; writes need a bearer token with the operation's scope.",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token of web.tokens (or web.api_token)."}},
        },
    }


def _name_regions(places: list[dict], regions: list[str]) -> None:
    """Give each ``region`` property or parameter of ``places`` the configured regions as its enum."""
    for place in places:
        spec = place.get("properties", {}).get("region") if "properties" in place else \
            (place["schema"] if place.get("name") == "region" else None)
        if spec is None:
            continue
        for branch in spec.get("anyOf", [spec]):
            if branch.get("type") == "string":
                branch["enum"] = regions


def _operation(op: Operation) -> dict:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.scope:
        out["description"] = f"Needs a bearer token with the scope `{op.scope}` (or `admin`)."
        out["security"] = [{"bearer": []}]
    named = {p.name for p in op.params}
    params = [p for p in _path_params(op.path) if p["name"] not in named] + [_param(p) for p in op.params]
    if op.idempotent_post:
        params.append(_param(IDEMPOTENCY))
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": {"$ref": REF.format(
            model=op.body.__name__)}}}}
    out["responses"] = {str(status): _response(answer, status) for status, answer in op.statuses().items()}
    return out


def _param(p: Param) -> dict:
    return {"name": p.name, "in": p.where, "required": p.required, "description": p.description,
            "schema": dict(p.schema)}  # a copy: the served document names the config's regions in it


def _response(answer: Answer | None, status: int) -> dict:
    if answer is None:
        return {"description": ERRORS[status],
                "content": {PROBLEM_TYPE: {"schema": {"$ref": REF.format(model=Problem.__name__)}}}}
    if answer.model is None:
        schema: dict = {"type": "string", **({"contentEncoding": "binary"} if answer.media == "application/pdf" else {})}
    else:
        one = {"$ref": REF.format(model=answer.model.__name__)}
        schema = {"type": "array", "items": one} if answer.many else one
    out: dict[str, Any] = {"description": answer.description, "content": {answer.media: {"schema": schema}}}
    if answer.links:
        out["links"] = {name: {"operationId": target, "parameters": parameters}
                        for name, (target, parameters) in answer.links.items()}
    return out


@cache
def _adapter(model: type[BaseModel], many: bool) -> TypeAdapter:
    return TypeAdapter(list[model] if many else model)  # type: ignore[valid-type]


ROUTES = web.AppKey("operations_by_route", dict)  # an aiohttp route → its Operation


@web.middleware
async def checked_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every JSON answer checked against its operation's model: one that does not match (a bug: the
    API and its document disagree) is logged and answered as a 500, never sent as documented."""
    response = await handler(request)
    op = request.app[ROUTES].get(request.match_info.route)
    answer = None if op is None else next((a for a in op.answers if a.status == response.status), None)
    if op is None or answer is None or answer.model is None or not isinstance(response, web.Response) \
            or not isinstance(response.body, bytes):
        return response
    try:
        _adapter(answer.model, answer.many).validate_json(response.body)
    except ValidationError as exc:
        log.error("event=api_answer_undocumented operation=%s error=%s", op.operation_id, str(exc)[:500])
        return problem(500, "internal error (logged)")
    return response


def register(app: web.Application, operations: tuple[Operation, ...]) -> None:
    """Add every operation's route, and remember which operation each route is."""
    routes = {}
    for op in operations:
        add = app.router.add_get if op.method == "GET" else partial(app.router.add_route, op.method)
        route = add(op.path, op.handler)  # add_get: HEAD too
        routes[route] = op
    app[ROUTES] = routes
