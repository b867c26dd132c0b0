"""Scoped API tokens (issue 28, `web.tokens`): each write needs a token with its scope; a token without
it gets a 403 problem document naming the scope; the audit trail and the logs name the token, never
show it; `web.api_token` keeps working with every scope; bad token settings are refused at their key."""
from __future__ import annotations

import hashlib
import logging
import sqlite3

import pytest

from daemon_helpers import running_daemon

READ, CALENDAR, OPS = "read-only-token-0001", "calendar-token-00002", "ops-token-0000000003"
TOKENS = (f'[{{name: dashboard, token: "{READ}", scopes: [read]}}, '
          f'{{name: calendar, sha256: "{hashlib.sha256(CALENDAR.encode()).hexdigest()}", scopes: [write:maintenance]}}, '
          f'{{name: ops, token: "{OPS}", scopes: [write:records]}}]')
WINDOW = {"region": "eu-west", "start": "2030-01-05T01:00:00Z", "end": "2030-01-05T02:00:00Z",
          "kind": "scheduled", "announced_at": "2029-12-01T00:00:00Z", "reason": "upgrade"}


def authors(db: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id, created_by, cancelled_by FROM maintenance ORDER BY id").fetchall()
    finally:
        con.close()


async def test_each_write_needs_its_scope_and_the_audit_trail_names_the_token(fleet, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    db = str(tmp_path / "d.db")
    async with running_daemon(fleet, db, tokens=TOKENS) as daemon:

        async def call(method: str, path: str, token: str | None, body: dict | None = None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with daemon.http.request(method, path, json=body, headers=headers) as answer:
                return answer.status, answer.content_type, await answer.json(content_type=None)

        status, kind, problem = await call("POST", "/api/v1/maintenance", READ, WINDOW)
        assert (status, kind) == (403, "application/problem+json")
        assert problem["status"] == 403 and problem["missing_scope"] == "write:maintenance"
        assert problem["detail"] == "token 'dashboard' lacks the scope write:maintenance (it has: read)"
        status, _, problem = await call("POST", "/api/v1/updates", CALENDAR,
                                        {"region": "eu-west", "status": "identified", "message": "x"})
        assert (status, problem["missing_scope"]) == (403, "write:records")
        assert (await call("POST", "/api/v1/maintenance", "no-such-token-000000", WINDOW))[0] == 401
        assert (await call("POST", "/api/v1/maintenance", None, WINDOW))[0] == 401

        status, _, created = await call("POST", "/api/v1/maintenance", CALENDAR, {**WINDOW, "by": "change board"})
        assert status == 201, created
        status, _, created = await call("POST", "/api/v1/maintenance", "s3cret-token", WINDOW)  # web.api_token: admin
        assert status == 201, created
        assert (await call("DELETE", "/api/v1/maintenance/1", OPS))[0] == 403
        assert (await call("DELETE", "/api/v1/maintenance/1", CALENDAR))[0] == 200
        # ops may post updates: past the scope check, the body is judged (no open outage in us-east here)
        status, _, answer = await call("POST", "/api/v1/updates", OPS, {"region": "mars", "status": "identified",
                                                                        "message": "x"})
        assert status == 400 and "mars" in answer["error"]

    # The audit trail says who (the token's name) and from where (the client's address).
    assert authors(db) == [(1, "change board (api:calendar from 127.0.0.1)", "api:calendar from 127.0.0.1"),
                           (2, "api:api_token from 127.0.0.1", None)]
    logged = caplog.text
    assert "event=api_write token=calendar from=127.0.0.1 scope=write:maintenance method=POST" in logged
    assert "event=api_refused token=dashboard from=127.0.0.1 scope=write:maintenance" in logged
    assert not any(secret in logged for secret in (READ, CALENDAR, OPS, "s3cret-token"))


async def test_without_any_token_writes_are_disabled(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db"), token=None) as daemon:
        async with daemon.http.post("/api/v1/maintenance", json=WINDOW) as answer:
            assert answer.status == 403 and "set web.tokens, or web.api_token" in (await answer.json())["error"]


@pytest.mark.parametrize("tokens, needle", [
    ('[{name: a, scopes: [read]}]', "give exactly one of token (from ${VAR}) or sha256"),
    ('[{name: a, token: "long-enough-token-1", sha256: "' + "0" * 64 + '", scopes: [read]}]', "exactly one of"),
    ('[{name: a, token: "long-enough-token-1", scopes: [write]}]', "write:maintenance"),
    ('[{name: a, token: "short", scopes: [read]}]', "at least 16 characters"),
    ('[{name: a, sha256: "abc", scopes: [read]}]', "web.tokens[0].sha256"),
    ('[{name: a, token: "long-enough-token-1", scopes: []}]', "web.tokens[0].scopes"),
    ('[{name: api_token, token: "long-enough-token-1", scopes: [read]}]', "token name 'api_token' is used twice"),
])
def test_bad_token_settings_are_refused_at_their_key(run_cli, tmp_path, tokens, needle):
    config = tmp_path / "c.yaml"
    base = (run_cli.db.parent / "spec.yaml").read_text()
    config.write_text(base + f'web: {{api_token: "an-admin-token-0001", tokens: {tokens}}}\n')
    result = run_cli("--config", str(config), "check-config")
    assert result.code != 0 and needle in result.err, result.err
    assert "long-enough-token-1" not in result.err and "an-admin-token-0001" not in result.err


PASSWORD = "correct horse battery staple"


def private_web(hashed: str) -> str:
    return (f'{TOKENS[:-1]}, {{name: pager, token: "{"w" * 20}", scopes: [write:maintenance]}}], public: false, '
            f'users: [{{name: jane, password_bcrypt: "{hashed}"}}], '
            'trusted_proxy: {header: X-Forwarded-User, from: ["127.0.0.2/32"]}')


async def test_a_private_page_lets_in_readers_only(fleet, tmp_path, caplog):
    """`web.public: false`: 401 without credentials, in headless Chromium too; the page with a user's
    password (Chromium sends it), a read token, or the proxy's header from the proxy's address only."""
    import asyncio

    import aiohttp
    import bcrypt

    from conftest import run_chromium

    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    async with running_daemon(fleet, str(tmp_path / "d.db"), tokens=private_web(hashed)) as daemon:

        async def get(path: str, **headers: str) -> int:
            async with daemon.http.get(path, headers=headers) as answer:
                if answer.status == 401:
                    assert answer.headers["WWW-Authenticate"].startswith('Basic realm="sla-monitor"')
                return answer.status

        basic = "Basic " + __import__("base64").b64encode(f"jane:{PASSWORD}".encode()).decode()
        wrong = "Basic " + __import__("base64").b64encode(b"jane:guess").decode()
        for path in ("/", "/api/v1/status", "/metrics", "/feed.atom", "/badge/eu-west/state.svg"):
            assert await get(path) == 401, path
            assert await get(path, Authorization=basic) == 200, path
        assert await get("/healthz") == 200
        assert await get("/", Authorization=wrong) == 401
        assert await get("/api/v1/status", Authorization=f"Bearer {READ}") == 200
        assert await get("/api/v1/status", Authorization=f"Bearer {'w' * 20}") == 401  # a writer, not a reader
        async with daemon.http.post("/api/v1/maintenance", json=WINDOW,
                                    headers={"Authorization": f"Bearer {'w' * 20}"}) as answer:
            assert answer.status == 201  # past the gate, with its own scope

        assert await get("/", **{"X-Forwarded-User": "sam"}) == 401  # from 127.0.0.1: not the proxy
        proxy_side = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}", connector=proxy_side) as proxy:
            async with proxy.get("/", headers={"X-Forwarded-User": "sam"}) as answer:
                assert answer.status == 200 and "eu-west" in await answer.text()
            async with proxy.get("/") as answer:
                assert answer.status == 401  # the proxy's address without the header: nobody

        url = f"http://127.0.0.1:{daemon.port}/"
        refused = await asyncio.to_thread(run_chromium, "--dump-dom", url)
        # Headless, Chromium cannot ask for a password: the basic-auth challenge ends the load.
        assert "ERR_INVALID_AUTH_CREDENTIALS" in refused.stderr and "eu-west" not in refused.stdout
        signed_in = await asyncio.to_thread(run_chromium, "--dump-dom", url.replace("//", f"//jane:{PASSWORD.replace(' ', '%20')}@"))
        assert "eu-west" in signed_in.stdout and "this status page is private" not in signed_in.stdout
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize("web, needle", [
    ("{public: false}", "public: false with nobody who may read"),
    ('{public: false, users: [{name: jane, password_bcrypt: "hunter2-in-clear"}]}', "web.users[0].password_bcrypt"),
    ('{public: false, trusted_proxy: {header: X-Forwarded-User, from: ["10.0.0.0/33"]}}', "web.trusted_proxy.from"),
])
def test_a_private_page_without_a_way_in_is_refused(run_cli, tmp_path, web, needle):
    config = tmp_path / "c.yaml"
    config.write_text((run_cli.db.parent / "spec.yaml").read_text() + f"web: {web}\n")
    result = run_cli("--config", str(config), "check-config")
    assert result.code != 0 and needle in result.err, result.err
    assert "hunter2" not in result.err


async def test_every_error_is_one_problem_document(fleet, tmp_path):
    """RFC 9457 everywhere: a refused write, a bad query, an unknown route or region, a method the route
    does not take, each `application/problem+json` with type, title, status and detail."""
    async with running_daemon(fleet, str(tmp_path / "d.db"), tokens=TOKENS) as daemon:
        cases = [("POST", "/api/v1/maintenance", {"Authorization": "Bearer nobody-0000000000000"}, 401),
                 ("GET", "/api/v1/availability?month=2026-13", {}, 400),
                 ("GET", "/api/v1/no-such-thing", {}, 404),
                 ("GET", "/feed/mars.atom", {}, 404),
                 ("PUT", "/api/v1/status", {}, 405),
                 ("DELETE", "/api/v1/maintenance/99999", {"Authorization": f"Bearer {CALENDAR}"}, 404)]
        for method, path, headers, expected in cases:
            async with daemon.http.request(method, path, headers=headers) as answer:
                body = await answer.json(content_type=None)
                assert (answer.status, answer.content_type) == (expected, "application/problem+json"), (path, body)
                assert body["status"] == expected and body["type"] == "about:blank" and body["title"], body
                assert body["detail"] and body["error"] == body["detail"]
                if expected == 405:
                    assert set(answer.headers["Allow"].split(",")) == {"GET", "HEAD"}
