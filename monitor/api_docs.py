"""docs/api.md, rendered from the OpenAPI document the daemon serves (``web/routes.py``): each
operation with its scope, parameters, body and answers, then each schema's fields."""
from __future__ import annotations

from typing import Any

from .web.routes import api_document

INTRO = """\
# API reference

Generated from the OpenAPI 3.1 document the daemon serves at `/api/v1/openapi.json` by
`python -m monitor.docs`; a test fails when this file is stale. Load that URL into any OpenAPI tool
(Swagger UI, Postman, a client generator) for the same, machine-readable.

- **Reads** are open, unless `web.public: false` (then a `read` token, a `web.users` password or the
  trusted proxy's header). **Writes** need `Authorization: Bearer TOKEN` with the operation's scope
  (`web.tokens`; `web.api_token` has every scope).
- **Every POST** takes an `Idempotency-Key` header: sent again with the same key, it creates nothing
  more and gets the first answer (`Idempotent-Replayed: true`), after a restart too; the same key with
  another request is a 422.
- **Every error** is an RFC 9457 problem document (`application/problem+json`): `type`, `title`,
  `status`, `detail` (and `error`, the detail again, for older clients); a 403 names the
  `missing_scope`. A 503 and a 429 carry `Retry-After`.
- **Times** are RFC 3339 instants with an offset (`2026-11-05T01:00:00Z`); a time without one is a 400.
- **Audit**: a write's record names the body's `by`, the token's name and the client's address
  (`Jane (api:ops from 10.0.0.7)`); the token itself is never stored or logged.
"""


def api_reference() -> str:
    """docs/api.md."""
    document = api_document()
    schemas = document["components"]["schemas"]
    out = [INTRO]
    by_tag: dict[str, list[tuple[str, str, dict]]] = {}
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            by_tag.setdefault(op["tags"][0], []).append((method.upper(), path, op))
    for tag, operations in by_tag.items():
        out += [f"## {tag.capitalize()}", ""]
        for method, path, op in operations:
            out += _operation(method, path, op)
    out += ["## Schemas", ""]
    for name, schema in schemas.items():
        out += _schema(name, schema)
    return "\n".join(out).rstrip() + "\n"


def _operation(method: str, path: str, op: dict) -> list[str]:
    out = [f"### `{method} {path}`", "", op["summary"] + ".", ""]
    if "description" in op:
        out += [op["description"], ""]
    params = op.get("parameters", [])
    if params:
        out += ["| parameter | in | type | |", "| --- | --- | --- | --- |"]
        out += [f"| `{p['name']}` | {p['in']} | {_type(p['schema'])} | {p.get('description', '')} |" for p in params]
        out.append("")
    if "requestBody" in op:
        out += [f"Body: {_type(op['requestBody']['content']['application/json']['schema'])}.", ""]
    out += ["| status | answer |", "| --- | --- |"]
    for status, response in op["responses"].items():
        media, content = next(iter(response["content"].items()))
        what = _type(content["schema"]) if "json" in media else f"`{media}`"
        out.append(f"| {status} | {what}: {response['description']} |")
    return out + [""]


def _schema(name: str, schema: dict) -> list[str]:
    out = [f"### {name}", ""]
    if schema.get("description"):
        out += [" ".join(schema["description"].split()), ""]
    properties = schema.get("properties")
    if not properties:
        return out + [f"{_type(schema)}.", ""]
    required = set(schema.get("required", []))
    out += ["| field | type | required | |", "| --- | --- | --- | --- |"]
    for field, spec in properties.items():
        out.append(f"| `{field}` | {_type(spec)} | {'yes' if field in required else ''} | "
                   f"{' '.join(spec.get('description', '').split())} |")
    if schema.get("additionalProperties") is False:
        out += ["", "No other field is accepted." if name.endswith("In") or name == "IncidentChange"
                else "No other field is sent."]
    return out + [""]


def _type(spec: Any) -> str:
    """A schema's type in a few words (a reference by its name)."""
    if "$ref" in spec:
        return f"[{spec['$ref'].rsplit('/', 1)[1]}](#{spec['$ref'].rsplit('/', 1)[1].lower()})"
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec and isinstance(spec["additionalProperties"], dict):
        return f"map to {_type(spec['additionalProperties'])}"
    extra = spec.get("format") or spec.get("pattern")
    return f"{kind} (`{extra}`)" if extra else str(kind)
