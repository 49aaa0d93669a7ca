"""`python -m ringfence` is the same as the `ringfence` command."""

from __future__ import annotations

from ringfence.entrypoints.cli import main

main()
