"""Carrier-facing routes: one module per carrier that the vendor calls back (status callbacks,
media streams), found here by listing this package, so adding a carrier adds a module and edits
no app code (docs/architecture.md, "Add a carrier").

Each module exposes `router` (an `APIRouter`, mounted without the API prefix or key: the vendor
signs its own requests, and the module checks that signature) and may expose
`install(app, container)`, called once after mounting, to set up what its routes need on
`app.state` (for Twilio: the speech pipeline behind its media streams). A carrier that posts
nothing back (the sandbox, SIP) has no module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType

from fastapi import APIRouter, FastAPI

from ringfence.bootstrap import Container

Install = Callable[[FastAPI, Container], None]


def carrier_route_modules() -> list[ModuleType]:
    """This package's carrier modules, by name (a stable mounting order)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.ispkg)
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def install_carrier_routes(app: FastAPI, container: Container) -> None:
    for module in carrier_route_modules():
        router = getattr(module, "router", None)
        if not isinstance(router, APIRouter):
            raise TypeError(f"{module.__name__} is in the carrier routes but has no `router`")
        app.include_router(router)
        install: Install | None = getattr(module, "install", None)
        if install is not None:
            install(app, container)
