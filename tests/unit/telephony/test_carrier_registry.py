"""Every carrier a caller ID may name has a builder: a `CarrierKind` without one would make the
router fail the first call of a number that names it, at dial time."""

from __future__ import annotations

from types import ModuleType
from typing import cast

import pytest
from fastapi import FastAPI

import ringfence.entrypoints.api.carriers as carriers_package
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import CARRIERS
from ringfence.domain.vocabulary import CarrierKind
from ringfence.entrypoints.api.carriers import carrier_route_modules, install_carrier_routes


def test_every_carrier_kind_is_registered() -> None:
    assert set(CARRIERS) == set(CarrierKind)


def test_each_carrier_route_module_is_mounted_by_the_app() -> None:
    """A carrier's callbacks are a module in `entrypoints/api/carriers/`: mounted by listing the
    package, so adding one edits no app code."""
    modules = carrier_route_modules()
    assert [module.__name__.rsplit(".", 1)[-1] for module in modules] == ["twilio"]
    app = FastAPI()
    install_carrier_routes(app, cast(Container, _NoTwilio()))
    assert app.url_path_for("twilio_status") == "/twilio/status"
    assert app.url_path_for("twilio_amd") == "/twilio/amd"
    assert app.url_path_for("twilio_media", key="k1") == "/twilio/media/k1"


def test_a_carrier_route_module_without_a_router_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stray = ModuleType("ringfence.entrypoints.api.carriers.stray")
    monkeypatch.setattr(carriers_package, "carrier_route_modules", lambda: [stray])
    with pytest.raises(TypeError, match="stray is in the carrier routes but has no `router`"):
        install_carrier_routes(FastAPI(), cast(Container, _NoTwilio()))


class _NoTwilio:
    """Just enough of a container for `install`: Twilio not configured, so nothing is built."""

    class settings:  # noqa: N801 - stands in for the attribute
        twilio_account_sid = None
        twilio_auth_token = None
        public_base_url = None
