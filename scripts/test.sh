#!/usr/bin/env bash
# Quick start, command 2: set everything up and run the whole test suite:
# lint (ruff), format check, type check (mypy --strict), import contracts, then pytest on SQLite
# and, beside it, the database-backed tests again on PostgreSQL (started here if it is installed
# but not running).
#
#   RINGFENCE_TEST_PG_URL   PostgreSQL server to create throw-away test databases on
#                           (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
#   SKIP_POSTGRES=1         run the SQLite pass only (for machines without PostgreSQL)
#   RINGFENCE_TEST_SERIAL=1 run the two passes one after the other, not side by side
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

if [ "${SKIP_POSTGRES:-0}" = "1" ]; then
  step "pytest on SQLite"
  .venv/bin/pytest -q -p no:cacheprovider --durations=25 tests
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
pg_isready -h 127.0.0.1 -p 5432 || {
  echo "PostgreSQL is not reachable at 127.0.0.1:5432 (SKIP_POSTGRES=1 runs the SQLite pass only)" >&2
  exit 1
}

sqlite_pass=(.venv/bin/pytest -q -p no:cacheprovider --durations=25 tests)
pg_pass=(.venv/bin/pytest -q -p no:cacheprovider --durations=25 tests/integration tests/e2e tests/security)

# The two passes run side by side: most of a pass is waiting (real-time SIP calls, browsers,
# subprocesses), about 40 % of a core each, so together they take little longer than the
# longer one alone. Each has its own temporary folder, its own databases (the PostgreSQL pass
# creates and drops a uniquely named one), its own screenshot folder, and asks the OS for free
# ports. RINGFENCE_TEST_SERIAL=1 (or a single core) runs them one after the other.
if [ "${RINGFENCE_TEST_SERIAL:-0}" = "1" ] || [ "$(nproc)" -lt 2 ]; then
  step "pytest on SQLite"
  "${sqlite_pass[@]}"
  step "pytest on PostgreSQL (database-backed tests)"
  RINGFENCE_TEST_DATABASE_URL="$PG_URL" "${pg_pass[@]}"
  exit 0
fi

scratch="$(mktemp -d -t ringfence-tests.XXXXXX)"
pg_log="$scratch/postgresql.log"
mkdir -p test-artifacts/postgresql
step "pytest on SQLite, and on PostgreSQL (database-backed tests) beside it (its output follows)"
# Job control puts each pass in a process group of its own, where SIGINT is not ignored (as it
# is for a script's background jobs), and `wait` lets a trap run at once: an interrupt or
# SIGTERM is forwarded to both passes as SIGINT, so pytest stops through its finalizers (its
# database dropped, SIP peers and browsers closed), and the PostgreSQL pass's output is
# printed whatever ended the run.
set -m
"${sqlite_pass[@]}" --basetemp "$scratch/sqlite" &
sqlite_pid=$!
RINGFENCE_TEST_DATABASE_URL="$PG_URL" RINGFENCE_TEST_ARTIFACTS="$PWD/test-artifacts/postgresql" \
  "${pg_pass[@]}" --basetemp "$scratch/postgresql" >"$pg_log" 2>&1 &
pg_pid=$!
set +m
stop_passes() {
  trap - EXIT INT TERM
  kill -INT -- "-$sqlite_pid" "-$pg_pid" 2>/dev/null || true
  wait "$sqlite_pid" "$pg_pid" 2>/dev/null || true
  step "pytest on PostgreSQL (interrupted): its output"
  cat "$pg_log"
}
trap stop_passes EXIT
trap 'stop_passes; exit 130' INT
trap 'stop_passes; exit 143' TERM
sqlite_rc=0
wait "$sqlite_pid" || sqlite_rc=$?
pg_rc=0
wait "$pg_pid" || pg_rc=$?
trap - EXIT INT TERM

step "pytest on PostgreSQL (database-backed tests): its output"
cat "$pg_log"
if [ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]; then
  rm -rf "$scratch"
else
  echo "the passes' temporary folders are kept for a look: $scratch"
fi
echo
echo "SQLite pass: exit $sqlite_rc; PostgreSQL pass: exit $pg_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
