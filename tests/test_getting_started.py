"""The first quarter hour of a new user: `init` writes a config that passes check-config, `probe --once`
says what each target answers, every command's --help has an example that parses, completion works in
a real bash, colours appear on a terminal only, and `--version` answers."""
from __future__ import annotations

import asyncio
import json
import os
import pty
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from loopback import start_app

from monitor import __version__
from monitor.catalogue import CATALOGUE
from monitor.cli import build_parser
from monitor.commands.parsing import subcommands
from monitor.config import load_config

CLI = [sys.executable, "-m", "monitor"]
TWO_REGIONS = ["--service", "TrueEngage", "--timezone", "Europe/Warsaw",
               "--region", "eu-west=https://eu-west.trueengage.example/health",
               "--region", "us-east=https://us-east.trueengage.example/health",
               "--third-party", "eu-west:genesys-euw1", "--third-party", "eu-west:azure-westeurope",
               "--third-party", "us-east:genesys-use1", "--third-party", "vonage",
               "--fee", "3200.00", "--currency", "EUR"]


def cli(*args: str, cwd: Path | None = None, env: dict | None = None, stdin: str | None = None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, input=stdin,
                          env={**os.environ, **(env or {})}, timeout=120)


def on_a_terminal(args: list[str], answers: list[str] = (), env: dict | None = None, cwd: Path | None = None) -> str:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr, typing ``answers`` line by line as
    prompts appear; everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on the terminal
        if cwd is not None:
            os.chdir(cwd)
        os.execve(sys.executable, [*CLI, *args], {**os.environ, "TERM": "xterm", **(env or {})})
    out, pending = b"", list(answers)
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
        if pending and (chunk.rstrip().endswith(b":") or chunk.rstrip().endswith(b"]")):
            os.write(fd, (pending.pop(0) + "\n").encode())
    os.waitpid(pid, 0)
    return out.decode(errors="replace")


def test_init_writes_a_commented_config_for_two_regions_that_passes_check_config(tmp_path):
    done = cli("init", *TWO_REGIONS, "--output", "monitor.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "probe --once" in done.stdout  # says what to do next
    text = (tmp_path / "monitor.yaml").read_text()
    assert text.count("\n#") >= 5  # commented
    cfg = load_config(str(tmp_path / "monitor.yaml"))
    regions = {r.name: r for r in cfg.regions}
    assert set(regions) == {"eu-west", "us-east"} and cfg.timezone == "Europe/Warsaw"
    assert regions["eu-west"].depends_on == ["genesys-euw1", "azure-westeurope", "vonage"]
    assert regions["us-east"].depends_on == ["genesys-use1", "vonage"]
    assert str(regions["eu-west"].monthly_fee) == "3200.00" and regions["eu-west"].currency == "EUR"
    feeds = {p.kind for t in cfg.third_parties for p in t.probes}
    assert feeds == {"tls", "statuspage", "rss"}  # each third party with its status feed
    checked = cli("--config", "monitor.yaml", "check-config", "--format", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["regions"] == 2 and json.loads(checked.stdout)["third_parties"] == 4


def test_every_catalogue_entry_makes_a_valid_config(tmp_path):
    args = ["--service", "S", "--region", "r=https://r.example/health"]
    for name in CATALOGUE:
        args += ["--third-party", name]
    done = cli("init", *args, "--output", "all.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(load_config(str(tmp_path / "all.yaml")).third_parties) == len(CATALOGUE)


@pytest.mark.parametrize("args, said", [
    (["--region", "eu-west=https://x.example"], "needs --service"),
    (["--service", "S"], "at least one --region"),
    (["--service", "S", "--region", "EU West=https://x.example"], "must be lower case"),
    (["--service", "S", "--region", "eu-west=ftp://x.example"], "not an http:// or https:// URL"),
    (["--service", "S", "--region", "eu-west"], "expected NAME=URL"),
    (["--service", "S", "--region", "r=https://x.example", "--timezone", "Europe/Varsaw"], "not an IANA time zone"),
    (["--service", "S", "--region", "r=https://x.example", "--third-party", "genesys-xx9"], "not in the catalogue"),
    (["--service", "S", "--region", "r=https://x.example", "--third-party", "q:vonage"], "'q' is not a --region"),
    (["--service", "S", "--region", "r=https://x.example", "--fee", "12,50", "--currency", "EUR"], "not an amount"),
    (["--service", "S", "--region", "r=https://x.example", "--fee", "12"], "go together"),
    (["--service", "S", "--region", "r=https://x.example", "--fee", "1", "--currency", "eur"], "ISO 4217"),
])
def test_init_refuses_bad_answers_and_writes_nothing(tmp_path, args, said):
    done = cli("init", *args, "--output", "monitor.yaml", "--no-input", cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert not (tmp_path / "monitor.yaml").exists()


def test_init_keeps_an_existing_file_unless_forced(tmp_path):
    (tmp_path / "monitor.yaml").write_text("mine\n")
    done = cli("init", "--service", "S", "--region", "r=https://x.example", "--output", "monitor.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "--force" in done.stderr and (tmp_path / "monitor.yaml").read_text() == "mine\n"
    forced = cli("init", "--service", "S", "--region", "r=https://x.example", "--output", "monitor.yaml", "--force",
                 cwd=tmp_path)
    assert forced.returncode == 0 and load_config(str(tmp_path / "monitor.yaml")).service == "S"


def test_init_on_a_terminal_asks_and_asks_again_after_a_bad_answer(tmp_path):
    out = on_a_terminal(["init", "--output", "asked.yaml"], [
        "Asked Service", "Europe/Nowhere", "Europe/Warsaw", "eu-west=https://eu.example.com/health",
        "genesys-euw1, vonage", "n", "y", "1200.50", "PLN", "", ""], cwd=tmp_path)
    assert "not an IANA time zone" in out  # the bad zone was refused, then asked again
    cfg = load_config(str(tmp_path / "asked.yaml"))
    assert cfg.service == "Asked Service" and cfg.timezone == "Europe/Warsaw"
    assert cfg.regions[0].depends_on == ["genesys-euw1", "vonage"] and cfg.regions[0].currency == "PLN"


async def test_probe_once_prints_what_each_target_answered(tmp_path):
    async def ok(_):
        return web.json_response({"status": "ok"})

    async def broken(_):
        return web.Response(status=503, text="down")
    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    runner, port = await start_app(app)
    try:
        (tmp_path / "monitor.yaml").write_text(f"""
service: S
regions:
  - name: eu-west
    components:
      - name: widget
        probes: [{{id: eu-widget, kind: http, url: "http://127.0.0.1:{port}/ok"}}]
  - name: us-east
    components:
      - name: widget
        probes: [{{id: us-widget, kind: http, url: "http://127.0.0.1:{port}/broken"}}]
""")
        base = [*CLI, "--config", str(tmp_path / "monitor.yaml"), "probe", "--once"]

        async def run(*args: str) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(*base, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await proc.communicate()
            return proc.returncode or 0, out.decode(), err.decode()

        code, out, _ = await run()
        assert code == 1  # one failed
        lines = {line.split()[0]: line for line in out.splitlines()[2:]}
        assert " ok " in lines["eu-widget"] and "HTTP 200" in lines["eu-widget"]
        assert " failed " in lines["us-widget"] and "503" in lines["us-widget"]
        assert "\033[" not in out  # not a terminal: no colour
        code, out, _ = await run("eu-widget", "--format", "json")
        rows = json.loads(out)
        assert code == 0 and [r["probe"] for r in rows] == ["eu-widget"] and rows[0]["result"] == "ok"
        assert rows[0]["latency_ms"] > 0
        code, _, err = await run("no-such-probe")
        assert code == 2 and "no probe 'no-such-probe'" in err and "eu-widget" in err
        # Without --once: a round every --every until Ctrl-C, which ends it quietly.
        again = await asyncio.create_subprocess_exec(*base[:-1], "--every", "1s", "eu-widget", stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE)
        tables = 0
        while tables < 2:
            line = await asyncio.wait_for(again.stdout.readline(), 30)
            tables += line.startswith(b"probe ")
        again.send_signal(signal.SIGINT)
        out, err = await again.communicate()
        assert again.returncode == 130 and b"Traceback" not in err
    finally:
        await runner.cleanup()


def test_every_command_has_help_with_an_example_that_parses():
    parser = build_parser()
    commands = subcommands(parser)
    assert {"init", "probe", "run", "report", "claim", "maintenance add", "hooks test", "completion"} <= set(commands)
    for words, command in commands.items():
        helped = command.format_help()
        assert "examples:" in helped, f"{words}: no example in --help"
        examples = [line.strip() for line in helped.split("examples:", 1)[1].splitlines() if line.strip()]
        for example in examples:
            argv = shlex.split(example.split("  #")[0].split(" > ")[0])
            assert argv[0] == "sla-monitor" and words.split()[0] in argv, example
            parser.parse_args(argv[1:])  # exits (SystemExit) on an example that does not parse


def test_version():
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"sla-monitor {__version__}"


def test_bash_completion_completes_commands_and_choices(tmp_path):
    bash = "/bin/bash"
    script = cli("completion", "bash").stdout
    (tmp_path / "completion.bash").write_text(script)
    probe = f"""
source {tmp_path / 'completion.bash'}
fn=$(complete -p sla-monitor | sed -E 's/.*-F ([^ ]+).*/\\1/')
COMP_WORDS=(sla-monitor rep); COMP_CWORD=1; $fn sla-monitor rep sla-monitor; echo "1:${{COMPREPLY[*]}}"
COMP_WORDS=(sla-monitor report --format ""); COMP_CWORD=3; $fn sla-monitor "" --format; echo "2:${{COMPREPLY[*]}}"
COMP_WORDS=(sla-monitor maintenance ""); COMP_CWORD=2; $fn sla-monitor "" maintenance; echo "3:${{COMPREPLY[*]}}"
"""
    done = subprocess.run([bash, "-c", probe], capture_output=True, text=True, timeout=60)
    said = dict(line.split(":", 1) for line in done.stdout.splitlines() if line[:2] in ("1:", "2:", "3:"))
    assert said["1"].split() == ["report"], done.stdout + done.stderr
    assert set(said["2"].split()) == {"table", "json", "csv", "markdown", "html", "pdf"}
    assert {"add", "list", "cancel", "import", "export"} <= set(said["3"].split())
    assert "#compdef sla-monitor" in cli("completion", "zsh").stdout


def test_colour_on_a_terminal_only_and_never_with_no_color(tmp_path, spec_config):
    args = ["--config", str(spec_config), "check-config"]
    coloured = on_a_terminal(args)
    assert "\033[32mconfig OK\033[0m" in coloured
    assert "\033[" not in on_a_terminal(args, env={"NO_COLOR": "1"})
    assert "\033[" not in cli(*args).stdout  # a pipe
    error = on_a_terminal(["--config", str(tmp_path / "missing.yaml"), "check-config"])
    assert "\033[31m" in error and "missing.yaml" in error


def test_init_on_a_terminal_refuses_a_region_given_twice_as_the_flags_do(tmp_path):
    out = on_a_terminal(["init", "--output", "twice.yaml"], [
        "S", "", "eu-west=https://eu.example.com/health", "", "y", "eu-west=https://other.example.com/health",
        "us-east=https://us.example.com/health", "", "n", "n", "", ""], cwd=tmp_path)
    assert "region 'eu-west' is already there" in out
    cfg = load_config(str(tmp_path / "twice.yaml"))
    assert [r.name for r in cfg.regions] == ["eu-west", "us-east"]
    assert cfg.regions[0].components[0].probes[0].url == "https://eu.example.com/health"  # the first one kept


def test_init_on_a_terminal_asks_for_the_contract_a_destination_and_where_to_write(tmp_path):
    out = on_a_terminal(["init"], [
        "S", "", "eu-west=https://eu.example.com/health", "", "n", "n",
        "TE-2026-0042", "Example Retail S.A.", "claims@example.org", "", "",  # the vendor: the service's name
        "pager", "alertmanager", "",  # a kind it does not know is asked again; the URL's default taken
        "config/asked.yaml"], cwd=tmp_path)
    assert "'pager': one of slack, pagerduty, alertmanager, webhook" in out
    cfg = load_config(str(tmp_path / "config" / "asked.yaml"))
    assert (cfg.contract.reference, cfg.contract.customer.name, cfg.contract.customer.email, cfg.contract.provider.name) \
        == ("TE-2026-0042", "Example Retail S.A.", "claims@example.org", "S")
    (am,) = cfg.hooks.destinations
    assert (am.type, am.url) == ("alertmanager", "http://127.0.0.1:9093")
    assert cfg.hooks.routes[0].destination == am.name and "outage.*" in cfg.hooks.routes[0].events


def test_init_names_a_destinations_secret_and_never_writes_it(tmp_path):
    done = cli("init", "--service", "S", "--region", "r=https://x.example", "--alerts", "slack", "--contract", "C-1",
               "--customer", "Me Ltd", "--output", "m.yaml", cwd=tmp_path, env={"SLACK_WEBHOOK_URL": "not a url"})
    assert done.returncode == 0, done.stderr
    assert "export SLACK_WEBHOOK_URL=" in done.stdout
    text = (tmp_path / "m.yaml").read_text()
    assert 'url: "${SLACK_WEBHOOK_URL}"' in text
    hook = "https://hooks.slack.com/services/T000/B000/XXXX"
    cfg = load_config(str(tmp_path / "m.yaml"), env={"SLACK_WEBHOOK_URL": hook})
    assert cfg.hooks.destinations[0].url == hook and cfg.contract.provider.name == "S"
    given = cli("init", "--service", "S", "--region", "r=https://x.example", "--alerts", f"slack={hook}",
                "--output", "n.yaml", cwd=tmp_path)
    assert given.returncode == 2 and "is a secret" in given.stderr and not (tmp_path / "n.yaml").exists()


def test_init_cancelled_at_a_question_says_so_and_writes_nothing(tmp_path):
    out = on_a_terminal(["init", "--output", "never.yaml"], ["\x04"], cwd=tmp_path)  # Ctrl-D at the first question
    assert "init: cancelled; nothing was written" in out and "Traceback" not in out
    assert not (tmp_path / "never.yaml").exists()


def test_a_reader_that_stops_early_is_no_error():
    done = subprocess.run(" ".join([*CLI, "init", "--catalogue"]) + " | head -1", shell=True, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.count("\n") == 1 and done.stderr == "", done.stderr
