# `make run` and `make test` do all set-up themselves on a fresh machine.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
FLASK := $(BIN)/flask --app wsgi
CATALOGS := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test bench system-packages test-packages translations-extract clean

PORT ?= 5000

run: system-packages $(VENV)/.installed $(COMPILED)
	HANDOVER_ENV=development $(FLASK) db upgrade
	HANDOVER_ENV=development $(FLASK) receipts dev-certificate
	HANDOVER_ENV=development $(FLASK) demo --port $(PORT)
	@echo "Serving Handover on http://127.0.0.1:$(PORT), with the outbox worker beside it:"
	@echo "SMS and e-mail show on http://127.0.0.1:$(PORT)/outbox/ instead of being sent (Ctrl+C stops both)"
	@HANDOVER_ENV=development $(FLASK) outbox work & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	HANDOVER_ENV=development $(FLASK) run --host 127.0.0.1 --port $(PORT)

AXE := tests/a11y/node_modules/axe-core/axe.min.js

test: system-packages test-packages $(VENV)/.test-installed $(COMPILED) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Figures, not pass/fail: every figure beside its baseline from the same run, printed
# and written into docs/benchmarks.md with the machine's description. Receipts, pages
# through gunicorn under wrk, support's lookups over BENCH_ROWS seeded receipts, the
# outbox's messages per second; on SQLite, and (as root, on the local cluster) PostgreSQL too.
BENCH_ROWS ?= 1000000
bench: system-packages $(VENV)/.test-installed $(COMPILED)
	@scripts/system-packages wrk
	@url=$$(scripts/postgresql-database handover_bench 2>/dev/null) || url=; \
	$(BIN)/python -m bench --rows $(BENCH_ROWS) $${url:+--postgresql $$url}

system-packages:
	@scripts/system-packages

# Browser tests drive Debian's Chromium (never a downloaded one); receipts are
# checked with poppler's pdfsig/pdftotext and re-saved with qpdf; rate limits are
# shared through a real Redis (the tests start their own unless TEST_REDIS_URL is set).
test-packages:
	@scripts/system-packages chromium poppler-utils qpdf redis-server wrk

# axe-core for the accessibility checks, from the npm registry at the locked version.
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json | test-packages
	@command -v npm >/dev/null || scripts/system-packages nodejs npm
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	touch $@

# What the app needs to run; `make run` installs only this.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The test and benchmark tools on top (pytest, ruff, Playwright, Schemathesis, …).
$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# Refresh the catalogs after changing user-facing strings; then translate the new ones.
translations-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o webapp/translations/messages.pot .
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(COMPILED) tests/a11y/node_modules test-artifacts
