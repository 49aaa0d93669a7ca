#!/usr/bin/env bash
# Mutation check of the compliance rules: plant each named rule break in a throw-away copy
# of the repository and check that the unit tests or the simulation audit catch it
# (docs/compliance.md, "Mutation check"). About 12 minutes on 2 cores with the default
# --jobs 2. Arguments go to scripts/mutation_check.py:
#
#   --only NAME ...   run these mutants only (--list names them)
#   --jobs N          mutants at once, each in its own copy (default 2)
#   --markdown        print the table as Markdown
#
# Exit status: 0 every mutant caught, 1 one survived, 2 a target text is missing or not
# unique, 3 the unmutated baseline fails a killer.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/mutation_check.py "$@"
