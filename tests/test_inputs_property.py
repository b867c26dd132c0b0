"""Random input never breaks a command or the API (issue 11): a CLI exits 0, 1 or 2 with no traceback,
and the API answers below 500. Hypothesis draws the input; the daemon and the store are real."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from daemon_helpers import running_daemon

TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["2026-11", "9999-12", "0000-01", "2026-13", "", "²",
                                                        "2026-11-03T10:00:00Z", "2126-01-01T00:00:00Z",
                                                        "99999999999999999999999", "eu-west", "-1", "\x00"]))
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
                    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
                    max_leaves=12)
FIELDS = st.fixed_dictionaries({}, optional={k: JSON for k in ("region", "all", "start", "end", "kind", "announced_at",
                                                                "reason", "by", "long")})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(month=TEXT, region=TEXT, incident=TEXT, at=TEXT)
def test_cli_never_breaks(run_cli, capsys, month, region, incident, at):
    for argv in (["report", "--month", month], ["outages", "--month", month, "--region", region],
                 ["incident", "resolve", incident, "--at", at],
                 ["exclusion", "add", "--region", region, "--start", at, "--end", month, "--cause", "customer",
                  "--note", incident]):
        try:
            result = run_cli(*argv)
        except SystemExit as exc:  # argparse refusing a value: its own usage message, exit 2
            assert exc.code == 2
            capsys.readouterr()  # that message is argparse's; the next call's stderr starts clean
            continue
        assert result.code in (0, 1, 2) and "Traceback" not in result.err, (argv, result.err)
        if result.code:
            assert result.err.count("\n") == 1, (argv, result.err)


@pytest.fixture
async def daemon(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db")) as running:
        yield running


async def test_the_api_never_answers_500(daemon):
    @settings(max_examples=80, deadline=None)
    @given(month=TEXT, region=TEXT, body=st.one_of(FIELDS, JSON), auth=st.sampled_from(
        ["Bearer s3cret-token", "Bearer wrong", "", "Bearer \udcff\udcfe"]))
    def check(month, region, body, auth):
        async def one():
            # A bound on each request: a stalled answer fails this example at once instead of waiting.
            async with aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}",
                                             timeout=aiohttp.ClientTimeout(total=10)) as http:
                for method, path, payload in (("GET", "/api/v1/availability", None), ("GET", "/api/v1/outages", None),
                                              ("POST", "/api/v1/maintenance", body)):
                    headers = {"Authorization": auth.encode("utf-8", "surrogateescape").decode("latin-1")}
                    async with http.request(method, path, params={"month": month, "region": region},
                                            data=json.dumps(payload), headers=headers) as r:
                        assert r.status < 500, (method, path, month, region, payload, await r.text())
        asyncio.run_coroutine_threadsafe(one(), loop).result(40)

    loop = asyncio.get_running_loop()
    await asyncio.to_thread(check)
