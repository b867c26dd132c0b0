"""`sla-monitor init`: a commented config for a new installation, from flags or, on a terminal, from
questions. The file it writes passes check-config: it is parsed before it is written, and nothing is
written when anything is wrong."""
from __future__ import annotations

import argparse
import re
import sys
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, TypeVar

import yaml

from ..catalogue import CATALOGUE, CatalogueEntry
from ..config import ConfigError, parse_config
from ..destinations import URL
from ..errors import InputError
from ..values import NAME_PATTERN
from ..values import check_currency as currency_code
from .common import DEFAULT_CONFIG
from .parsing import command
from .reporting import write_output
from .style import paint

T = TypeVar("T")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``init``."""
    p = command(sub, "init", "write a commented config for your regions and their third parties",
                "sla-monitor init --service TrueEngage --timezone Europe/Warsaw "
                "--region eu-west=https://eu-west.trueengage.example/health "
                "--third-party eu-west:genesys-euw1 --third-party eu-west:azure-westeurope --third-party vonage "
                "--fee 3200.00 --currency EUR --output monitor.yaml",
                "sla-monitor init                      # on a terminal: asks for each value",
                "sla-monitor init --catalogue          # the third parties it knows",
                details="Third parties come from a built-in catalogue (Genesys Cloud regions, Azure regions, "
                        "Vonage) with their status feeds. --third-party NAME applies to every region, "
                        "REGION:NAME to one.")
    p.add_argument("--service", help="the Service's name, as reports show it")
    p.add_argument("--timezone", help="IANA time zone the months are counted in (default UTC)")
    p.add_argument("--region", action="append", default=[], metavar="NAME=URL",
                   help="a region and the URL of its health check (repeat for each region)")
    p.add_argument("--third-party", action="append", default=[], metavar="[REGION:]NAME",
                   help="a third party from the catalogue that the regions (or REGION) depend on")
    p.add_argument("--fee", help="each region's monthly fee, for the credit's amount (e.g. 3200.00)")
    p.add_argument("--currency", help="ISO 4217 code of the fee (e.g. EUR)")
    p.add_argument("--contract", metavar="REFERENCE", help="the contract's reference, for credit claims "
                                                           "(with --customer; --provider defaults to --service)")
    p.add_argument("--customer", help="your company's legal name, as the claim letter names it")
    p.add_argument("--customer-email", help="your claims contact's e-mail")
    p.add_argument("--provider", help="the vendor's legal name (default: the --service name)")
    p.add_argument("--provider-email", help="the vendor's e-mail for claims")
    p.add_argument("--alerts", metavar="KIND[=URL]",
                   help="one alert destination: slack, pagerduty, alertmanager=URL or webhook=URL (its secret, "
                        "if any, is read from the environment: the file names the variable)")
    p.add_argument("--output", help=f"where to write it (default {DEFAULT_CONFIG}; asked on a terminal); - for "
                                    "standard output")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--no-input", action="store_true", help="never ask, even on a terminal")
    p.add_argument("--catalogue", action="store_true", help="list the third parties it knows, and exit")


@dataclass
class Answers:
    service: str = ""
    timezone: str = "UTC"
    regions: dict[str, str] = field(default_factory=dict)  # name → health check URL
    depends_on: dict[str, list[str]] = field(default_factory=dict)  # region → catalogue names
    fee: Decimal | None = None
    currency: str | None = None
    contract: dict | None = None  # reference, customer and provider as the config's contract section
    alerts: tuple[str, str] | None = None  # (kind, URL or "") of the one destination


def cmd_init(args: argparse.Namespace) -> int:
    """Write the config (or list the catalogue)."""
    if args.catalogue:
        for entry in CATALOGUE.values():
            print(f"{entry.name:28} {entry.provider:16} {entry.where}")
        return 0
    asking = sys.stdin.isatty() and not args.no_input
    answers = from_flags(args)
    if args.output is not None:
        _check_output(args.output, args.force)
    if asking:
        try:
            ask_missing(answers, input)
            if args.output is None:
                args.output = _retry(input, f"Write the config to [{DEFAULT_CONFIG}]: ",
                                     lambda t: _check_output(t or DEFAULT_CONFIG, args.force))
        except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at a question
            print("\ninit: cancelled; nothing was written", file=sys.stderr)
            return 130
    output_arg = _check_output(args.output or DEFAULT_CONFIG, args.force)
    output = None if output_arg == "-" else Path(output_arg)
    if not answers.service or not answers.regions:
        raise InputError("init needs --service NAME and at least one --region NAME=URL (or run it on a terminal "
                         "to be asked)")
    text = render(answers)
    try:  # secrets are named, not known, here: the file must parse without them
        parse_config(text, str(output or "<init>"), env={}, sends=False)
    except ConfigError as exc:  # a value that passed the checks above but not the config's: say which
        raise InputError("; ".join(exc.problems)) from None
    if output is None:
        sys.stdout.write(text)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)  # config/ of a fresh install
    write_output(text, str(output))
    third = sorted({name for names in answers.depends_on.values() for name in names})
    print(f"{paint('wrote', 'green', sys.stdout)} {output}: service {answers.service!r}, {len(answers.regions)} "
          f"regions, {len(third)} third parties. Next:\n  sla-monitor --config {output} probe --once")
    if answers.alerts and (variable := SECRET_VARIABLE.get(answers.alerts[0])):
        print(f"  export {variable}=…   # the {answers.alerts[0]} destination's secret, before `run` and `hooks test`")
    return 0


def _check_output(text: str, force: bool) -> str:
    """The output path, refused when the file exists (unless ``force``)."""
    if text != "-" and Path(text).exists() and not force:
        raise InputError(f"--output {text}: the file exists; choose another path or add --force to replace it")
    return text


def from_flags(args: argparse.Namespace) -> Answers:
    """The answers the flags give, each checked (InputError names the flag, the value and a fix)."""
    answers = Answers(service=(args.service or "").strip())
    if args.timezone:
        answers.timezone = check_timezone(args.timezone, "--timezone")
    for spec in args.region:
        name, url = parse_region(spec)
        if name in answers.regions:
            raise InputError(f"--region {spec!r}: region {name!r} is given twice")
        answers.regions[name] = url
    for region in answers.regions:
        answers.depends_on[region] = []
    for spec in args.third_party:
        region, _, name = spec.rpartition(":")
        check_third_party(name, f"--third-party {spec!r}")
        if region and region not in answers.regions:
            raise InputError(f"--third-party {spec!r}: {region!r} is not a --region (known: "
                             f"{', '.join(answers.regions) or 'none yet'})")
        for target in [region] if region else list(answers.regions):
            if name not in answers.depends_on[target]:
                answers.depends_on[target].append(name)
    if args.fee is not None:
        answers.fee = check_fee(args.fee, "--fee")
    if args.currency is not None:
        answers.currency = check_currency(args.currency, "--currency")
    if (answers.fee is None) != (answers.currency is None):
        raise InputError("--fee and --currency go together (e.g. --fee 3200.00 --currency EUR)")
    if args.contract or args.customer:
        if not (args.contract and args.customer):
            raise InputError("--contract and --customer go together (e.g. --contract TE-2026-0042 "
                             "--customer 'Example Retail S.A.')")
        answers.contract = contract(args.contract, args.customer, args.customer_email,
                                    args.provider or answers.service, args.provider_email)
    if args.alerts:
        answers.alerts = parse_alerts(args.alerts, "--alerts")
    return answers


# The environment variable each destination's secret is read from (the file names it, never holds it).
SECRET_VARIABLE = {"slack": "SLACK_WEBHOOK_URL", "pagerduty": "PAGERDUTY_ROUTING_KEY", "webhook": "WEBHOOK_SECRET"}
ALERT_KINDS = ("slack", "pagerduty", "alertmanager", "webhook")


def parse_alerts(text: str, where: str) -> tuple[str, str]:
    """``slack``, ``pagerduty``, ``alertmanager=URL`` or ``webhook=URL``."""
    kind, _, url = text.strip().partition("=")
    if kind not in ALERT_KINDS:
        raise InputError(f"{where} {text!r}: one of slack, pagerduty, alertmanager=URL, webhook=URL")
    if kind in ("alertmanager", "webhook") and not re.fullmatch(URL, url):
        raise InputError(f"{where} {text!r}: {kind} needs its http(s) URL (e.g. {kind}=http://127.0.0.1:9093)")
    if kind in ("slack", "pagerduty") and url:
        raise InputError(f"{where} {text!r}: {kind}'s URL or key is a secret: it is read from "
                         f"${{{SECRET_VARIABLE[kind]}}}, not given here")
    return kind, url


def contract(reference: str, customer: str, customer_email: str | None, provider: str,
             provider_email: str | None) -> dict:
    """The config's contract section (for `claim`)."""
    def party(name: str, email: str | None) -> dict:
        return {"name": name.strip(), **({"email": email.strip()} if email and email.strip() else {})}
    return {"reference": reference.strip(), "customer": party(customer, customer_email),
            "provider": party(provider, provider_email)}


def ask_missing(answers: Answers, ask: Callable[[str], str]) -> None:
    """Ask, on a terminal, for what the flags did not give; a bad answer is asked again."""
    while not answers.service:
        answers.service = ask("Service name (as reports show it): ").strip()
    if answers.timezone == "UTC":
        answers.timezone = _retry(ask, "Time zone [UTC]: ", lambda t: check_timezone(t or "UTC", "time zone"))
    while not answers.regions or _yes(ask("Add another region? [y/N] ")):
        name, url = _retry(ask, "Region (NAME=URL of its health check, e.g. eu-west=https://eu.example.com/health): ",
                           lambda spec: _new_region(spec, answers.regions))
        answers.regions[name] = url
        known = ", ".join(CATALOGUE)
        print(f"Third parties it depends on, from: {known}", file=sys.stderr)
        answers.depends_on[name] = _retry(ask, f"Third parties of {name} (comma-separated, empty for none): ",
                                          _third_party_list)
    if answers.fee is None and _yes(ask("Set a monthly fee per region, for the credits' amounts? [y/N] ")):
        answers.fee = _retry(ask, "Monthly fee (e.g. 3200.00): ", lambda t: check_fee(t, "fee"))
        answers.currency = _retry(ask, "Currency (e.g. EUR): ", lambda t: check_currency(t, "currency"))
    if answers.contract is None:
        reference = ask("Contract reference, for credit claims (empty to skip): ").strip()
        if reference:
            customer = _retry(ask, "Your company's legal name: ", _required)
            email = ask("Your claims contact's e-mail (empty for none): ")
            provider = ask(f"The vendor's legal name [{answers.service}]: ").strip() or answers.service
            answers.contract = contract(reference, customer, email, provider,
                                        ask("The vendor's e-mail for claims (empty for none): "))
    if answers.alerts is None:
        kind = _retry(ask, "Send alerts to (slack, pagerduty, alertmanager, webhook; empty for none): ",
                      lambda t: t if t in ("", *ALERT_KINDS) else _refuse(t, "one of " + ", ".join(ALERT_KINDS)))
        if kind in ("alertmanager", "webhook"):
            default = "http://127.0.0.1:9093" if kind == "alertmanager" else ""
            answers.alerts = _retry(ask, f"{kind.capitalize()} URL{f' [{default}]' if default else ''}: ",
                                    lambda t: parse_alerts(f"{kind}={t or default}", kind))
        elif kind:
            answers.alerts = (kind, "")
            print(f"Its secret is read from ${{{SECRET_VARIABLE[kind]}}} in the environment.", file=sys.stderr)


def _required(text: str) -> str:
    if not text.strip():
        raise InputError("an answer is needed here")
    return text.strip()


def _refuse(text: str, expected: str) -> str:
    raise InputError(f"{text!r}: {expected}")


def _new_region(spec: str, regions: dict[str, str]) -> tuple[str, str]:
    """``parse_region``, refusing a name already given (as the flags refuse it)."""
    name, url = parse_region(spec)
    if name in regions:
        raise InputError(f"region {name!r} is already there; give another name")
    return name, url


def _retry(ask: Callable[[str], str], prompt: str, parse: Callable[[str], T]) -> T:
    while True:
        try:
            return parse(ask(prompt).strip())
        except InputError as exc:
            print(f"  {exc}", file=sys.stderr)


def _yes(text: str) -> bool:
    return text.strip().lower() in ("y", "yes")


def _third_party_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        check_third_party(name, name)
    return names


def parse_region(spec: str) -> tuple[str, str]:
    """``NAME=URL`` → (name, url), both checked."""
    name, sep, url = spec.partition("=")
    name, url = name.strip(), url.strip()
    if not sep or not name or not url:
        raise InputError(f"region {spec!r}: expected NAME=URL, e.g. eu-west=https://eu-west.example.com/health")
    if not re.fullmatch(NAME_PATTERN, name) or len(name) > 64:
        raise InputError(f"region {spec!r}: name {name!r} must be lower case letters, digits, _ . - (e.g. eu-west)")
    if not re.fullmatch(URL, url):  # the config's own pattern for an absolute http(s) URL
        raise InputError(f"region {spec!r}: {url!r} is not an http:// or https:// URL")
    return name, url


def check_timezone(text: str, where: str) -> str:
    """An IANA zone name, or InputError."""
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{where} {text!r}: not an IANA time zone (e.g. Europe/Warsaw, America/New_York, UTC)") \
            from None
    return text


def check_third_party(name: str, where: str) -> CatalogueEntry:
    """A catalogue entry by name, or InputError listing close names."""
    if name not in CATALOGUE:
        close = [known for known in CATALOGUE if name.split("-")[0] in known][:8] or list(CATALOGUE)[:8]
        raise InputError(f"{where}: {name!r} is not in the catalogue (e.g. {', '.join(close)}; "
                         f"`sla-monitor init --catalogue` lists all)")
    return CATALOGUE[name]


def check_fee(text: str, where: str) -> Decimal:
    """A non-negative amount, exactly."""
    try:
        fee = Decimal(text)
    except InvalidOperation:
        raise InputError(f"{where} {text!r}: not an amount (e.g. 3200.00)") from None
    if not fee.is_finite() or fee < 0:
        raise InputError(f"{where} {text!r}: must be an amount of 0 or more (e.g. 3200.00)")
    return fee


def check_currency(text: str, where: str) -> str:
    """An ISO 4217 code, as the config's ``currency`` checks it."""
    try:
        return currency_code(text)
    except ValueError:
        raise InputError(f"{where} {text!r}: must be an ISO 4217 code in capitals (e.g. EUR, USD)") from None


def _flow(value: object) -> str:
    """``value`` as one line of YAML (a bare scalar's dump ends with a document end marker: dropped)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text.removesuffix("...").strip()


# What each destination gets: chat and webhooks every event; a pager or Alertmanager the conditions and
# the month's facts (Alertmanager pages only a counted outage; PagerDuty triggers only then too).
PAGING_EVENTS = ["outage.*", "third_party.*", "monitor.*", "maintenance.*", "certificate.*", "budget.*", "sla.*"]
DESTINATION = {"slack": ("chat", 'url: "${SLACK_WEBHOOK_URL}"', ["*"]),
               "pagerduty": ("pager", 'routing_key: "${PAGERDUTY_ROUTING_KEY}"', PAGING_EVENTS),
               "alertmanager": ("alertmanager", "url: {url}", PAGING_EVENTS),
               "webhook": ("receiver", 'url: {url}, secret: "${WEBHOOK_SECRET}"', ["*"])}


def _hooks(alerts: tuple[str, str] | None) -> list[str]:
    if alerts is None:
        return ["# Alerts: add destinations (slack, pagerduty, alertmanager, webhook) and routes; see docs/config.md.",
                "hooks:", "  destinations: []", "  routes: []"]
    kind, url = alerts
    name, settings, events = DESTINATION[kind]
    return ["# Alerts (docs/alerts.md): secrets come from the environment, never from this file.",
            "hooks:", "  destinations:",
            f"    - {{name: {name}, type: {kind}, {settings.replace('{url}', _flow(url))}}}",
            "  routes:", f"    - {{destination: {name}, events: {_flow(events)}}}"]


def _contract(parties: dict | None) -> list[str]:
    if parties is None:
        return []
    lines = ["# The contract a service credit claim (`sla-monitor claim`) cites, and its parties.", "contract:",
             f"  reference: {_flow(parties['reference'])}"]
    for side in ("customer", "provider"):
        lines.append(f"  {side}: {_flow(parties[side])}")
    return lines + [""]


def render(answers: Answers) -> str:
    """The config file's text, with comments that say what each part is for."""
    used = [CATALOGUE[n] for n in dict.fromkeys(n for names in answers.depends_on.values() for n in names)]
    lines = [
        f"# sla-monitor config for {answers.service}, written by `sla-monitor init`.",
        "# Check it:   sla-monitor --config THIS_FILE check-config",
        "# Try it:     sla-monitor --config THIS_FILE probe --once",
        "# Every key is in docs/config.md; secrets go in as ${VAR} from the environment.",
        "",
        f"service: {_flow(answers.service)}",
        f"timezone: {answers.timezone}      # calendar months are counted in this zone",
        "support_plan: premium     # premium: service credits apply; standard: none",
        "",
        "storage:",
        "  path: data/sla-monitor.db",
        "",
        "# This monitor's own network: while none of these pass, failures are the monitor's, not the",
        "# Service's (unknown time, never downtime). Targets that share nothing with the Service.",
        "vantage_health:",
        "  min_ok: 1",
        "  probes:",
        "    - {id: control-cloudflare-dns, kind: tcp, host: 1.1.1.1, port: 53, timeout: 3s}",
        "    - {id: control-quad9-dns, kind: tcp, host: 9.9.9.9, port: 53, timeout: 3s}",
        "",
        *_hooks(answers.alerts),
        "",
        *_contract(answers.contract),
    ]
    if used:
        lines += ["# Outages of these are excluded from the SLA (a region lists its own in depends_on). Status",
                  "# pages rename components now and then: check the names against the live pages.",
                  "third_parties:"]
        for entry in used:
            lines.append(f"  - name: {entry.name}          # {entry.provider}: {entry.where}")
            lines += [f"    {key}: {_flow(value)}" for key, value in entry.config().items()
                      if key not in ("name", "probes")]
            lines.append("    probes:")
            lines += [f"      - {_flow(probe)}" for probe in entry.probes]
        lines.append("")
    lines += ["# The regional deployments the SLA covers; each is accounted on its own.", "regions:"]
    for name, url in answers.regions.items():
        lines += [f"  - name: {name}", "    environment: production"]
        if answers.fee is not None:
            lines += [f'    monthly_fee: "{answers.fee}"', f"    currency: {answers.currency}"]
        lines += [f"    depends_on: {_flow(answers.depends_on.get(name, []))}",
                  "    components:",
                  "      - name: service",
                  "        probes:",
                  f"          - id: {name}-health",
                  "            kind: http",
                  f"            url: {_flow(url)}",
                  "            expect_status: [200]",
                  "            interval: 60s",
                  "            timeout: 10s",
                  "            retries: 1            # one quick retry before a sample counts as failed"]
    return "\n".join(lines) + "\n"

