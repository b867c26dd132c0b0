"""Config: the example files validate; each bad-config fixture fails with its exact message."""
from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.config import ConfigError, load_config, parse_config, to_fleet
from conftest import FIXTURES

ROOT = Path(__file__).parent.parent
BAD = sorted((FIXTURES / "bad_config").glob("*.yaml"))


@pytest.mark.parametrize("name", ["example.yaml", "demo.yaml"])
def test_shipped_configs_validate(name):
    cfg = load_config(ROOT / "config" / name)
    fleet = to_fleet(cfg)
    assert fleet.regions and all(r.components for r in fleet.regions)


def test_example_has_the_fleet_the_issue_asks_for():
    cfg = load_config(ROOT / "config" / "example.yaml")
    envs = [r.environment for r in cfg.regions]
    assert envs.count("production") >= 3 and "non-production" in envs
    providers = {t.provider for t in cfg.third_parties}
    assert {"Genesys Cloud", "Microsoft Azure", "Vonage"} <= providers
    assert all(any(not c.critical for c in r.components) for r in cfg.regions if r.environment == "production")
    policy = cfg.policy.model_dump()
    for knob in ("stale_after_factor", "quorum", "flap_merge_seconds", "unknown_counts_as", "maintenance_notice_hours",
                 "maintenance_max_hours", "downtime_threshold_minutes", "threshold_before_exclusions",
                 "credit_cap_percent"):
        assert knob in policy


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_message(path: Path, monkeypatch):
    monkeypatch.delenv("SLA_TEST_UNSET_TOKEN", raising=False)
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}{expected}" in caught.value.problems


def test_bad_config_exits_2_through_cli(run_cli):
    result = run_cli("check-config", config=FIXTURES / "bad_config" / "unknown_key.yaml")
    assert result.code == 2 and "did you mean 'name'" in result.err and result.out == ""


def test_env_interpolation_and_secret_never_echoed():
    text = (FIXTURES / "spec.yaml").read_text().replace('"http://127.0.0.1:9/health"', '"http://127.0.0.1:9/${TOKEN}"')
    cfg = parse_config(text, env={"TOKEN": "s3cret"})
    assert any(p.url.endswith("/s3cret") for p, _, _ in cfg.all_probes() if p.kind == "http")
    bad = text.replace("interval: 60s}\nEOF", "").replace("- {id: w, kind: http,", "- {id: w, kind: http, timeout: \"${TOKEN}\",")
    with pytest.raises(ConfigError) as caught:
        parse_config(bad, env={"TOKEN": "s3cret"})
    assert "s3cret" not in str(caught.value) and "(from environment)" in str(caught.value)


def test_default_from_env_syntax():
    text = (FIXTURES / "spec.yaml").read_text().replace("unused.db", "${SLA_DB:-fallback.db}")
    assert parse_config(text, env={}).storage.path == "fallback.db"
    assert parse_config(text, env={"SLA_DB": "x.db"}).storage.path == "x.db"


def test_decimal_percent_is_exact():
    text = (FIXTURES / "spec.yaml").read_text().replace("support_plan: premium", "support_plan: premium\npolicy: {target_percent: 99.95}")
    from fractions import Fraction
    assert to_fleet(parse_config(text)).policy.target_percent == Fraction(9995, 100)


def test_a_secret_is_not_echoed_by_an_error_on_its_parent():
    """A probe without kind: pydantic reports the whole probe, the header from the environment inside it."""
    text = (FIXTURES / "spec.yaml").read_text().replace(
        '- {id: w, kind: http, url: "http://127.0.0.1:9/health", interval: 60s}',
        '- {id: w, url: "http://127.0.0.1:9/health", headers: {Authorization: "Bearer ${TOKEN}"}}')
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={"TOKEN": "s3cret-t0ken"})
    assert "s3cret-t0ken" not in str(caught.value) and "holds values from the environment" in str(caught.value)


def test_a_fleet_of_20000_probes_is_not_taken_for_an_alias_bomb():
    """The alias guard scales with what the document writes out: 20,000 probes (some 300,000 values)
    load; the alias bomb fixture (a few lines expanding to billions) is refused by the same guard."""
    lines = ["service: big", "timezone: UTC", "regions:"]
    for r in range(400):
        lines.append(f"  - name: r{r}\n    components:")
        for c in range(5):
            lines.append(f"      - name: c{c}\n        probes:")
            lines += [f"          - {{id: r{r}c{c}p{k}, kind: tcp, host: 127.0.0.1, port: {1000 + k}, interval: 60s}}"
                      for k in range(10)]
    cfg = parse_config("\n".join(lines) + "\n")
    assert sum(1 for _ in cfg.all_probes()) == 20_000
    with pytest.raises(ConfigError, match="expands to more than 200,000 values through aliases"):
        load_config(str(FIXTURES / "bad_config" / "alias_bomb.yaml"))


def test_probe_models_are_small_and_stay_so_through_a_pickle():
    """Both processes keep every probe's model (bench/RESULTS.md): its fields share their kind's key
    table, equal values are one object, and the probe process's pickled copy is as small and equal."""
    cfg = parse_config("service: s\ntimezone: UTC\nregions:\n  - name: r\n    components:\n      - name: c\n"
                       "        probes:\n" + "".join(f"          - {{id: p{k}, kind: http, url: 'http://127.0.0.1/{k}', "
                                                     "interval: 45s}\n" for k in range(3)))
    first, second, _ = (p for p, _, _ in cfg.all_probes())
    assert sys.getsizeof(vars(first)) < sys.getsizeof(dict(vars(first))) * 0.5
    assert first.interval is second.interval and first.headers is second.headers
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    with pytest.raises(ValidationError, match="frozen"):
        first.timeout = 1
    copy = pickle.loads(pickle.dumps(cfg))
    again = next(p for p, _, _ in copy.all_probes())
    assert copy == cfg and again.model_dump() == first.model_dump() == dict(vars(first))
    assert sys.getsizeof(vars(again)) == sys.getsizeof(vars(first)) and again.interval is first.interval


def test_commands_that_send_nothing_need_no_destination_secret(tmp_path, spec_config, capsys):
    """${WEBHOOK_SECRET} unset: report and probe-free commands run, check-config warns (exit 0), and `run`
    refuses with one line naming the variable (not a second one about the empty value)."""
    from monitor.cli import main

    config = tmp_path / "hooked.yaml"
    config.write_text(spec_config.read_text() + "hooks:\n  destinations:\n    - {name: ops, type: webhook, "
                      "url: 'http://127.0.0.1:9/hook', secret: '${WEBHOOK_SECRET_UNSET_HERE}'}\n"
                      "  routes:\n    - {destination: ops}\n")
    base = ["--config", str(config), "--db", str(tmp_path / "s.db")]
    assert main(base + ["import", "/dev/null"]) == 0
    assert main(base + ["--now", "2026-11-20T00:00:00Z", "report", "--month", "2026-11"]) == 0
    capsys.readouterr()
    assert main(base + ["check-config"]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "${WEBHOOK_SECRET_UNSET_HERE} is not set" in err and "`run` and `hooks test`" in err
    assert main(base + ["run", "--listen", "127.0.0.1:0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "${WEBHOOK_SECRET_UNSET_HERE} is not set" in lines[0], lines
