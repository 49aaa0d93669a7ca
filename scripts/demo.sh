#!/usr/bin/env bash
# Quick start, command 1: set everything up and run the demo on the embedded defaults
# (SQLite file ./ringfence.db). Extra arguments go to `ringfence demo` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ringfence demo "$@"
