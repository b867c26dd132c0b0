"""Bad input: a one-line error naming what and where, exit 2, and the store exactly as it was."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import write_jsonl

GOOD = [{"ts": "2026-11-03T10:00:00Z", "probe": "w", "ok": True},
        {"ts": "2026-11-03T10:01:00+01:00", "probe": "w", "ok": False, "latency_ms": 3.5, "error": "HTTP 503"}]


def snapshot(db) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def seeded(run_cli, tmp_path):
    """A store with two samples and a maintenance window, and its dump to compare against."""
    assert run_cli("import", str(write_jsonl(tmp_path / "good.jsonl", GOOD))).code == 0
    assert run_cli("maintenance", "add", "--all", "--start", "2026-11-05T01:00:00Z", "--end", "2026-11-05T02:00:00Z",
                   "--kind", "scheduled", "--announced-at", "2026-11-01T00:00:00Z", "--reason", "patching").code == 0
    return snapshot(run_cli.db)


def _assert_rejected(result, *needles):
    assert result.code == 2, (result.out, result.err)
    assert result.err.count("\n") == 1, result.err  # one line
    for needle in needles:
        assert needle in result.err


IMPORT_CASES = {
    "naive-ts": ({"ts": "2026-11-03T10:02:00", "probe": "w", "ok": True}, ["bad.jsonl:3", "no UTC offset"]),
    "unparseable-ts": ({"ts": "yesterday", "probe": "w", "ok": True}, ["bad.jsonl:3", "not an ISO 8601"]),
    "unknown-probe": ({"ts": "2026-11-03T10:02:00Z", "probe": "nope", "ok": True}, ["bad.jsonl:3", "'nope'", "known: g, u, w"]),
    "unknown-vantage": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": True, "vantage": "mars"}, ["bad.jsonl:3", "'mars'"]),
    "future-sample": ({"ts": "2099-11-03T10:02:00Z", "probe": "w", "ok": False},
                      ["bad.jsonl:3", "'2099-11-03T10:02:00Z' is in the future"]),
    "year-typo-sample": ({"ts": "2126-11-03T10:02:00Z", "probe": "w", "ok": False},
                         ["bad.jsonl:3", "'2126-11-03T10:02:00Z' is outside the years 1970–2100"]),
    "sample-ahead-of-now": ({"ts": "2027-01-15T01:00:00Z", "probe": "w", "ok": False},
                            ["bad.jsonl:3", "is in the future (now is 2027-01-15T00:00:00Z)"]),
    "probe-a-list": ({"ts": "2026-11-03T10:02:00Z", "probe": ["w"], "ok": True}, ["bad.jsonl:3", "probe ['w']"]),
    "ok-not-bool": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": "yes"}, ["bad.jsonl:3", "ok: 'yes'"]),
    "missing-ts": ({"probe": "w", "ok": True}, ["bad.jsonl:3", "ts is missing"]),
    "missing-ok": ({"ts": "2026-11-03T10:02:00Z", "probe": "w"}, ["bad.jsonl:3", "ok is missing"]),
    "unknown-without-cause": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": None},
                              ["bad.jsonl:3", "cause: None", "vantage_unhealthy"]),
    "unknown-bad-cause": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": None, "cause": "gremlins"},
                          ["bad.jsonl:3", "cause: 'gremlins'"]),
    "cause-on-known": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": False, "cause": "monitor_fault"},
                       ["bad.jsonl:3", "only an unknown sample"]),
    "unknown-key": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": True, "status": 1}, ["bad.jsonl:3", "'status'"]),
    "negative-latency": ({"ts": "2026-11-03T10:02:00Z", "probe": "w", "ok": True, "latency_ms": -1}, ["latency_ms"]),
}


@pytest.mark.parametrize("case", IMPORT_CASES, ids=list(IMPORT_CASES))
def test_bad_import_line_rolls_back_everything(case, seeded, run_cli, tmp_path):
    bad_row, needles = IMPORT_CASES[case]
    # Two good new lines first: they must not survive the bad third one.
    rows = [{"ts": "2026-11-04T10:00:00Z", "probe": "w", "ok": False}, {"ts": "2026-11-04T10:01:00Z", "probe": "g", "ok": True}, bad_row]
    result = run_cli("import", str(write_jsonl(tmp_path / "bad.jsonl", rows)))
    _assert_rejected(result, *needles)
    assert snapshot(run_cli.db) == seeded


def test_malformed_json_line_reports_line_number(seeded, run_cli, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"ts": "2026-11-04T10:00:00Z", "probe": "w", "ok": false}\n\n{"ts": "2026-11-04T10:01:00Z", "probe":\n')
    _assert_rejected(run_cli("import", str(path)), "bad.jsonl:3", "not valid JSON")
    assert snapshot(run_cli.db) == seeded


RECORD_CASES = {
    "end-before-start": (["maintenance", "add", "--region", "eu-west", "--start", "2026-11-05T02:00:00Z", "--end",
                          "2026-11-05T02:00:00Z", "--kind", "scheduled", "--announced-at", "2026-11-01T00:00:00Z",
                          "--reason", "x"], ["--end", "must be after --start"]),
    "unknown-region": (["exclusion", "add", "--region", "mars", "--start", "2026-11-05T01:00:00Z", "--end",
                        "2026-11-05T02:00:00Z", "--cause", "customer", "--note", "x"], ["'mars'", "known: eu-west"]),
    "unknown-cause": (["exclusion", "add", "--region", "eu-west", "--start", "2026-11-05T01:00:00Z", "--end",
                       "2026-11-05T02:00:00Z", "--cause", "gremlins", "--note", "x"], ["'gremlins'", "force_majeure"]),
    "unknown-third-party-cause": (["exclusion", "add", "--region", "eu-west", "--start", "2026-11-05T01:00:00Z", "--end",
                                   "2026-11-05T02:00:00Z", "--cause", "third_party:aws", "--note", "x"], ["'aws'", "genesys-euw1"]),
    "naive-start": (["incident", "add", "--region", "eu-west", "--severity", "P1", "--opened", "2026-11-05T01:00:00"],
                    ["--opened", "no UTC offset"]),
    "resolved-before-opened": (["incident", "add", "--region", "eu-west", "--severity", "P2", "--opened",
                                "2026-11-05T01:00:00Z", "--resolved", "2026-11-05T00:00:00Z"], ["--resolved", "after"]),
    "unknown-component": (["incident", "add", "--region", "eu-west", "--component", "panel", "--severity", "P2",
                           "--opened", "2026-11-05T01:00:00Z"], ["'panel'", "widget"]),
    "bad-month": (["report", "--month", "2026-13"], ["'2026-13'", "YYYY-MM"]),
    "month-words": (["outages", "--month", "November"], ["'November'", "YYYY-MM"]),
    "future-month": (["report", "--month", "2031-01"], ["has not started"]),
    "cancel-unknown": (["maintenance", "cancel", "99"], ["no maintenance window with id 99"]),
    "window-typo-year": (["maintenance", "add", "--region", "eu-west", "--start", "2026-11-05T01:00:00Z", "--end",
                          "2126-11-05T02:00:00Z", "--kind", "scheduled", "--announced-at", "2026-11-01T00:00:00Z",
                          "--reason", "x"], ["--end", "outside the years 1970–2100"]),
    "window-40-days": (["exclusion", "add", "--region", "eu-west", "--start", "2026-11-05T00:00:00Z", "--end",
                        "2026-12-15T00:00:00Z", "--cause", "force_majeure", "--note", "flood"],
                       ["40.0 days", "add --long if it is meant"]),
    "blank-reason": (["maintenance", "add", "--region", "eu-west", "--start", "2026-11-05T01:00:00Z", "--end",
                      "2026-11-05T02:00:00Z", "--kind", "scheduled", "--announced-at", "2026-11-01T00:00:00Z",
                      "--reason", "  "], ["--reason must say"]),
    "month-9999": (["report", "--month", "9999-12"], ["'9999-12' is outside the years 1970–2100"]),
    "month-0000": (["outages", "--month", "0000-01"], ["'0000-01' is outside the years 1970–2100"]),
    "resolve-huge-id": (["incident", "resolve", "99999999999999999999999", "--at", "2026-11-05T01:00:00Z"],
                        ["'99999999999999999999999' is not an incident id"]),
    "classify-superscript-id": (["incident", "classify", "²", "--severity", "P2"], ["'²' is not an incident id"]),
    "resolve-unknown": (["incident", "resolve", "42", "--at", "2026-11-05T01:00:00Z"], ["no incident with id 42"]),
    "resolve-unknown-automatic": (["incident", "resolve", "eu-west/region/2026-11-03T08:00:00Z", "--at",
                                   "2026-11-03T09:00:00Z"], ["no incident 'eu-west/region/2026-11-03T08:00:00Z'"]),
    "classify-not-an-id": (["incident", "classify", "nonsense", "--severity", "P2"], ["'nonsense' is not an incident id"]),
    "classify-unknown-region": (["incident", "classify", "mars/region/2026-11-03T09:01:00Z", "--severity", "P2"],
                                ["'mars'"]),
    "resolve-before-opened": (["incident", "resolve", "eu-west/region/2026-11-03T09:01:00Z", "--at",
                               "2026-11-03T09:00:00Z"], ["is not after incident", "opened (2026-11-03T09:01:00Z)"]),
}
NOW_CASES = {"naive-now": ("2026-11-30T00:00:00", "no UTC offset"), "garbage-now": ("soon", "not an ISO 8601")}


@pytest.mark.parametrize("case", RECORD_CASES, ids=list(RECORD_CASES))
def test_bad_record_input(case, seeded, run_cli):
    args, needles = RECORD_CASES[case]
    _assert_rejected(run_cli(*args), *needles)
    assert snapshot(run_cli.db) == seeded


def test_prune_refuses_a_future_now(seeded, run_cli):
    _assert_rejected(run_cli("prune", now="2099-01-01T00:00:00Z"), "--now 2099-01-01T00:00:00Z is in the future")
    assert snapshot(run_cli.db) == seeded


@pytest.mark.parametrize("case", NOW_CASES, ids=list(NOW_CASES))
def test_bad_now(case, seeded, run_cli):
    now, needle = NOW_CASES[case]
    _assert_rejected(run_cli("report", "--month", "2026-11", now=now), "--now", needle)
    assert snapshot(run_cli.db) == seeded


@pytest.mark.parametrize("argv", [["incident", "add", "--region", "eu-west", "--severity", "P5", "--opened", "2026-11-05T01:00:00Z"],
                                  ["maintenance", "add", "--all", "--start", "2026-11-05T01:00:00Z", "--end", "2026-11-05T02:00:00Z",
                                   "--kind", "sometime", "--announced-at", "2026-11-01T00:00:00Z", "--reason", "x"]],
                         ids=["unknown-severity", "unknown-kind"])
def test_unknown_choice_exits_2(argv, seeded, run_cli):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(*argv)
    assert exit_info.value.code == 2
    assert snapshot(run_cli.db) == seeded


def test_not_sqlite_file_is_refused_untouched(run_cli, tmp_path):
    run_cli.db.write_bytes(b"this is a text file, not a database\n" * 10)
    before = run_cli.db.read_bytes()
    _assert_rejected(run_cli("import", str(write_jsonl(tmp_path / "good.jsonl", GOOD))), "not an SQLite database")
    _assert_rejected(run_cli("report", "--month", "2026-11"), "not an SQLite database")
    assert run_cli.db.read_bytes() == before


def test_newer_schema_is_refused_untouched(seeded, run_cli, tmp_path):
    con = sqlite3.connect(run_cli.db)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    before = snapshot(run_cli.db)
    _assert_rejected(run_cli("import", str(write_jsonl(tmp_path / "good.jsonl", GOOD))), "schema version 99", "upgrade")
    assert snapshot(run_cli.db) == before


def test_foreign_sqlite_database_is_not_touched(run_cli, tmp_path):
    con = sqlite3.connect(run_cli.db)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    _assert_rejected(run_cli("import", str(write_jsonl(tmp_path / "good.jsonl", GOOD))), "another program")
    assert "customers" in "".join(snapshot(run_cli.db)) and "samples" not in "".join(snapshot(run_cli.db))


def test_report_without_store_says_so(run_cli):
    _assert_rejected(run_cli("report", "--month", "2026-11"), "no database here")
    assert not run_cli.db.exists()


def test_missing_import_file(run_cli, tmp_path):
    _assert_rejected(run_cli("import", str(tmp_path / "nope.jsonl")), "nope.jsonl", "cannot read")


def test_a_long_window_is_accepted_when_said(seeded, run_cli):
    result = run_cli("exclusion", "add", "--region", "eu-west", "--start", "2026-11-05T00:00:00Z", "--end",
                     "2026-12-15T00:00:00Z", "--cause", "force_majeure", "--note", "flood", "--long")
    assert result.code == 0, result.err


def test_a_failed_import_into_a_new_store_leaves_no_file(run_cli, tmp_path):
    rows = [GOOD[0], {"ts": "2026-11-03T10:02:00", "probe": "w", "ok": True}]
    _assert_rejected(run_cli("import", str(write_jsonl(tmp_path / "bad.jsonl", rows))), "no UTC offset")
    assert not run_cli.db.exists()


def test_a_config_that_is_not_utf8(run_cli, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("service: Montr\u00e9al\n".encode("latin-1"))
    _assert_rejected(run_cli("check-config", config=path), "not UTF-8 text (byte 14)", "save the file as UTF-8")


def test_listen_must_be_host_and_port(run_cli):
    _assert_rejected(run_cli("run", "--listen", "garbage", now=None), "--listen 'garbage' must be HOST:PORT")


def test_a_store_on_a_read_only_mount_is_a_runtime_failure_not_a_format_error(tmp_path, spec_config):
    """Not "not an SQLite database": the file is one, this process cannot open it (exit 1, the cause)."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare to mount a folder read-only")
    folder = tmp_path / "ro"
    folder.mkdir()
    base = [sys.executable, "-m", "monitor", "--config", str(spec_config), "--db", str(folder / "s.db")]
    assert subprocess.run([*base, "import", "/dev/null"], capture_output=True).returncode == 0
    script = (f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && exec "
              + " ".join([*base, "--now", "2026-11-20T00:00:00Z", "report", "--month", "2026-11"]))
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    if "unshare failed" in done.stderr or "mount:" in done.stderr:
        pytest.skip(f"mount namespaces not permitted here: {done.stderr.strip()}")
    assert done.returncode == 1, done.stderr
    assert "cannot read the database" in done.stderr and "not an SQLite database" not in done.stderr


@pytest.mark.parametrize("argv", [["maintenance", "cancel", "99999999999999999999"],
                                  ["hooks", "list", "--limit", "99999999999999999999"],
                                  ["hooks", "list", "--limit", "0"]], ids=["cancel-huge-id", "huge-limit", "zero-limit"])
def test_a_number_no_store_can_hold_is_a_usage_error(argv, seeded, run_cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(*argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"{argv[-1]} is out of range: give a whole number from 1 to 9223372036854775807" in err, err
    assert snapshot(run_cli.db) == seeded


def hold_write_lock(db, seconds: float):
    """Another process that holds the store's write lock for ``seconds``; returns once it has it."""
    import subprocess
    import sys

    script = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
              "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); "
              "c.execute('COMMIT')")
    holder = subprocess.Popen([sys.executable, "-c", script, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


ADD = ["maintenance", "add", "--all", "--start", "2026-11-06T01:00:00Z", "--end", "2026-11-06T02:00:00Z",
       "--kind", "emergency", "--announced-at", "2026-11-06T00:30:00Z", "--reason", "hotfix"]


def test_a_write_waits_for_another_process_holding_the_lock(seeded, run_cli):
    """The other writer lets go after 1.5 s, inside the 5 s busy timeout: the write waits and succeeds
    (a deferred transaction that read first used to fail at once with "database is locked")."""
    holder = hold_write_lock(run_cli.db, 1.5)
    try:
        result = run_cli(*ADD)
    finally:
        holder.wait(30)
    assert result.code == 0, result.err
    assert "hotfix" in run_cli("maintenance", "list").out


def test_a_write_blocked_past_the_busy_timeout_says_so_and_changes_nothing(seeded, run_cli):
    holder = hold_write_lock(run_cli.db, 7)
    try:
        result = run_cli(*ADD)
    finally:
        holder.wait(30)
    assert result.code == 1 and result.err.count("\n") == 1, result.err
    assert "the database is locked: another writer" in result.err and "more than 5 s; nothing was changed" in result.err
    assert snapshot(run_cli.db) == seeded
