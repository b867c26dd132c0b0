"""The seams the design promises, checked on the source: SQL only under monitor/storage/, the wall
clock read only by the composition roots, report fields read by key only at the edges, and the web
app built from what it reads (never the daemon)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "monitor"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|PRAGMA)\s")  # as this code writes SQL
# Composition roots choose the clock (the probe process is one: it starts on its own; the simulated fleet
# is a program of its own, whose vendor status page stamps its posts); clock.py is the clock.
CLOCK_READERS = {"clock.py", "app.py", "cli.py", "demo.py", "live/probe_process.py", "simulate.py"}
# Keys only the report's JSON form has (feeds, records and events have incidents, exclusions and figures
# of their own): reading them means reading the JSON instead of the typed result.
REPORT_KEYS = {"regions", "periods", "pieces", "credit", "downtime_ms", "downtime_minutes", "unknown_spells",
               "excluded_minutes", "total_ms", "error_budget_minutes", "month_to_date", "elapsed_minutes"}
EDGES = ("reports/", "web/status.py")  # the JSON serializer and the renderers


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), str(path))


def strings(tree):
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_sql_lives_only_in_the_storage_package():
    found = [(name, text[:40]) for name, tree in modules() if not name.startswith("storage/")
             for text in strings(tree) if SQL.match(text)]
    assert found == []
    assert any(SQL.match(text) for name, tree in modules() if name.startswith("storage/") for text in strings(tree))


def test_only_the_composition_roots_read_the_wall_clock():
    readers = []
    for name, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("time", "time_ns", "now", "utcnow") \
                    and isinstance(node.value, ast.Name) and node.value.id in ("time", "datetime", "dt"):
                readers.append((name, node.attr))
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("clock") \
                    and any(alias.name == "SYSTEM" for alias in node.names):
                readers.append((name, "SYSTEM"))
            if isinstance(node, ast.ImportFrom) and any(alias.name == "clock" for alias in node.names):
                readers.append((name, "the clock module"))  # a module-level clock, read wherever it is imported
    assert {name for name, _ in readers} <= CLOCK_READERS, readers


def test_report_fields_are_read_by_key_only_at_the_edges():
    found = []
    for name, tree in modules():
        if name.startswith(EDGES):
            continue
        for node in ast.walk(tree):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant):
                key = node.slice.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                key = node.args[0].value
            if key in REPORT_KEYS:
                found.append((name, node.lineno, key))
    assert found == []


def test_the_web_app_does_not_know_the_daemon():
    for name, tree in modules():
        if name.startswith("web/"):
            imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
            assert "app" not in imported and "daemon" not in imported, name
            assert "daemon" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}, name


def test_the_daemons_side_loads_no_probes():
    """With the probe side in its own process, the daemon's process needs none of the probes (aiohttp's
    client stays for the hooks): each probe module, dnspython and cryptography would cost it memory."""
    import subprocess
    import sys

    code = ("import sys, monitor.app; print(sorted(m for m in sys.modules if m.startswith(('monitor.probes', "
            "'monitor.scheduler', 'monitor.live.probing', 'apscheduler', 'dns', 'cryptography'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", loaded


def test_the_config_loads_no_plugin_library():
    """The config names every probe kind and destination, yet loading it loads none of their libraries
    (each imports its own where a check or a post runs): a command that only reads the config starts fast."""
    import subprocess
    import sys

    spec = Path(__file__).parent / "fixtures" / "spec.yaml"
    code = (f"import sys; from monitor.config import load_config; load_config({str(spec)!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'dns', 'defusedxml', "
            "'cryptography', 'apscheduler', 'apprise')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", loaded


def imports_of(name: str, tree) -> set[str]:
    """The monitor modules ``name`` imports, as package-relative paths (``hooks/events``)."""
    package = name.rsplit("/", 1)[0].split("/") if "/" in name else []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = "/".join([*base, *(node.module or "").split(".")]).strip("/")
                found |= {target} if node.module else {"/".join([*base, a.name]) for a in node.names}
            elif (node.module or "").startswith("monitor."):
                found.add(node.module.removeprefix("monitor.").replace(".", "/"))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("monitor.").replace(".", "/") for a in node.names
                      if a.name.startswith("monitor.")}
    return found


# What each layer must not import: the arrows point down only (the event model, monitor/event.py, is
# below all of them; the engine, sla/, below everything).
# The plug-ins (a destination, a probe kind) sit below the config that names them: they import none of it.
PLUGIN_ABOVE = ("config", "hooks", "live", "storage", "web", "reports", "commands", "probes", "app.py", "cli.py")
FORBIDDEN = {"sla/": ("storage", "hooks", "live", "config", "web", "reports", "commands", "probes"),
             "destinations/": PLUGIN_ABOVE, "checks/": PLUGIN_ABOVE,
             "storage/": ("hooks", "live", "web", "commands"),
             "config/": ("hooks", "live", "storage", "web", "commands"),
             "hooks/": ("live", "web", "commands", "storage"),
             "event.py": ("hooks", "live", "storage", "config", "web", "commands"),
             "outbox.py": ("hooks", "live", "storage", "config", "web", "commands")}


def test_no_import_runs_back_up_a_layer():
    found = []
    for name, tree in modules():
        for layer, banned in FORBIDDEN.items():
            if name.startswith(layer):
                found += [(name, target) for target in imports_of(name, tree)
                          if target.split("/")[0] in banned]
    assert found == []


def test_no_cycle_between_packages():
    """Package by package (``hooks``, ``live``, ``event.py``…), the imports form no cycle."""
    edges: dict[str, set[str]] = {}
    for name, tree in modules():
        edges.setdefault(name.split("/")[0], set()).update(
            target.split("/")[0] for target in imports_of(name, tree) if target.split("/")[0] != name.split("/")[0])

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), set()) - seen:
                if nxt == goal:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    assert [package for package in sorted(edges) if reaches(package, package)] == []


def test_plugin_contracts_are_typed_without_any():
    """What a destination and a probe kind implement is typed all through, without ``Any`` (mypy checks
    each plug-in against it)."""
    from monitor.checks.base import ProbeSettings, Resources
    from monitor.destinations.base import DestinationSettings

    methods = [(contract.__name__, name, member.__annotations__) for contract in (DestinationSettings, ProbeSettings,
                                                                                  Resources)
               for name, member in vars(contract).items() if callable(member) and not name.startswith("_")]
    assert len(methods) >= 12
    assert [m for m in methods if "return" not in m[2] or any("Any" in str(t) for t in m[2].values())] == []


def test_events_are_made_in_one_module():
    """Every alert event is built by monitor/hooks/events.py (the model itself is monitor/event.py):
    no other module calls Event(...)."""
    found = [(name, node.lineno) for name, tree in modules() if name not in ("event.py", "hooks/events.py")
             for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id == "Event"]
    assert found == []
