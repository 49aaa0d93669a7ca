"""Entrypoints: how the outside world drives Ringfence (HTTP API, web pages, CLI, workers)."""
