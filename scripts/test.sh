#!/usr/bin/env bash
# Quick start, command 2: set everything up and run the whole test suite:
# lint (ruff), format check, type check (mypy --strict), import contracts, then pytest on SQLite
# and again on PostgreSQL (started here if it is installed but not running).
#
#   RINGFENCE_TEST_PG_URL   PostgreSQL server to create throw-away test databases on
#                           (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
#   SKIP_POSTGRES=1         run the SQLite pass only (for machines without PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Debian packages the tests drive: Chromium for the browser tests (tests/e2e/test_web_browser.py,
# through Playwright; `playwright install`, which downloads its own browsers, is never used),
# the SIP peers of the SIP carrier's tests: baresip (baresip-core) and SIPp (sip-tester), and
# espeak-ng.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v baresip >/dev/null 2>&1 || missing+=(baresip-core)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)  # a second voice for the recordings and AMD tests
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then apt=(sudo "${apt[@]}"); fi
  # Try the package lists already on the machine first; refresh them only if that fails.
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" \
    || { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; }
fi

PG_URL="${RINGFENCE_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

step() { printf '\n==> %s\n' "$*"; }

step "ruff check"
.venv/bin/ruff check src tests benchmarks
step "ruff format --check"
.venv/bin/ruff format --check src tests benchmarks
step "mypy --strict (package)"
.venv/bin/mypy
step "import contracts (imports point downward, no cycles: pyproject's [tool.importlinter])"
.venv/bin/lint-imports

step "pytest on SQLite"
.venv/bin/pytest -q -p no:cacheprovider --durations=25 tests

if [ "${SKIP_POSTGRES:-0}" = "1" ]; then
  echo "SKIP_POSTGRES=1: PostgreSQL pass skipped"
  exit 0
fi

step "PostgreSQL"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && break
    sleep 1
  done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; }

step "pytest on PostgreSQL (database-backed tests)"
RINGFENCE_TEST_DATABASE_URL="$PG_URL" .venv/bin/pytest -q -p no:cacheprovider --durations=25 tests/integration tests/e2e tests/security
