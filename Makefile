# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: run test test-dates lint docs bench bench-daemon bench-api bench-scale bench-prometheus bench-postgres bench-scale-postgres bench-vantages demo-month clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The simulated fleet in the background, the daemon in the foreground; Ctrl-C stops both.
run: $(STAMP)
	@$(BIN)/python -m monitor.simulate & SIM=$$!; trap 'kill $$SIM 2>/dev/null' EXIT INT TERM; \
	sleep 1; $(BIN)/sla-monitor --config config/demo.yaml run

demo-month: $(STAMP)
	$(BIN)/python -m monitor.demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The whole suite at fixed instants (month starts, DST changes, a leap day, New Year's Eve, a year
# ahead) under Debian's libfaketime, installed here if missing; DATES="leap-day year-ahead" picks some
# (`python tests/dates.py --list` names them all).
DATES ?=
test-dates: $(STAMP)
	@ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime)
	$(BIN)/python tests/dates.py $(DATES)

# Static checks of the package: ruff (pyflakes, pycodestyle, bugbear, import order) and mypy with
# pydantic's plugin; settings in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check monitor
	$(BIN)/mypy --disallow-untyped-defs monitor

# docs/config.md, docs/cli.md and docs/runbooks.md from the code (a test fails when they are stale).
docs: $(STAMP)
	$(BIN)/python -m monitor.docs

bench: $(STAMP)
	$(BIN)/python bench/run.py --shared $(SHARED)
	$(MAKE) bench-daemon
	$(MAKE) bench-api
	$(MAKE) bench-scale
	$(MAKE) bench-prometheus
	$(MAKE) bench-postgres
	$(MAKE) bench-vantages
	$(MAKE) bench-scale-postgres

# 10 vantages × 500 probes read from a real Prometheus against the same samples as JSONL (needs Debian's
# prometheus; DAYS=30 is the whole month: 216 M samples, about two hours, most of it promtool's).
DAYS ?= 30
bench-prometheus: $(STAMP)
	$(BIN)/python bench/prometheus_month.py --days $(DAYS)

# The PostgreSQL store against the SQLite one on the same month: import and report (Debian's postgresql).
bench-postgres: $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
	$(BIN)/python bench/postgres.py --shared $(SHARED)

# Three vantages × 5,000 probes / 10 s writing into one PostgreSQL database, against three SQLite files.
bench-vantages: $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light)
	$(BIN)/python bench/vantages.py

# A year of samples for 500 probes (generated once, about 8 GB in bench/out/scale): refresh, reports, import.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

# The same year copied into PostgreSQL: store copy, then refresh and reports on both stores.
bench-scale-postgres: $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
	$(BIN)/python bench/scale.py --postgres

# Report requests against sample flushes: 200 clients on the API while 200 probes/s are stored.
bench-api: $(STAMP)
	$(BIN)/python bench/api_burst.py

# Needs Debian's nginx (a loopback target that costs little CPU): installed here if missing.
bench-daemon: $(STAMP)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light)
	$(BIN)/python bench/daemon.py --shared $(SHARED)
	# Probes/s per core: 10,000 probes every 10 s with every daemon process on core 1.
	$(BIN)/python bench/daemon.py --only-ours --n 10000 --interval 10 --pin 1 --warmup 25
	# 20,000 probes every 60 s (two arrivals per target in a 120 s window).
	$(BIN)/python bench/daemon.py --only-ours --n 20000 --interval 60 --warmup 75 --window 120

clean:
	rm -rf $(VENV) data build *.egg-info
