"""The one ASGI application `ringfence serve` runs: the API and the staff pages (the test
console among them).

The composition lives here so that the API (`api/`) and the pages (`web/`) never import each
other; both take what they share from `entrypoints/deps.py`.
"""

from __future__ import annotations

from fastapi import FastAPI

from ringfence.bootstrap import Container
from ringfence.entrypoints.api.app import create_api
from ringfence.entrypoints.web.site import install_web


def create_app(container: Container) -> FastAPI:
    app = create_api(container)
    install_web(app, container)
    return app
