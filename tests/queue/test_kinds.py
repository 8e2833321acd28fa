"""Request kinds are declared once, in the registry, by the service that owns them; start-up refuses gaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.queue import kinds, routing
from portal.queue.kinds import Kind, KindSpec, RegistryError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_routed_kind_is_registered_and_every_registered_kind_is_routed():
    routed = {str(kind) for kind in routing.default_routing().service_days}
    assert routed == set(kinds.registered())
    kinds.check_complete(routed)


def test_start_up_refuses_a_routed_kind_that_no_service_registered():
    routed = {str(kind) for kind in routing.default_routing().service_days}
    with pytest.raises(RegistryError, match="routed but not registered: \\['pension_top_up'\\]"):
        kinds.check_complete(routed | {"pension_top_up"})


def test_start_up_refuses_a_registered_kind_that_the_routing_file_does_not_route():
    routed = {str(kind) for kind in routing.default_routing().service_days}
    with pytest.raises(RegistryError, match="registered but not routed: \\['deferral'\\]"):
        kinds.check_complete(routed - {"deferral"})


def test_a_kind_registered_twice_with_different_checks_is_refused():
    with pytest.raises(RegistryError, match="registered twice"):
        kinds.register(KindSpec(Kind.DEFERRAL))


def test_registering_the_same_spec_again_changes_nothing():
    spec = kinds.spec_of(Kind.DEFERRAL)
    kinds.register(spec)
    assert kinds.spec_of("deferral") is spec


def test_an_unregistered_kind_is_named_in_the_error():
    with pytest.raises(RegistryError, match="'pension_top_up' is not registered"):
        kinds.spec_of("pension_top_up")


@pytest.mark.parametrize("kind", sorted(kinds.registered()))
def test_each_kind_that_shows_its_own_keys_has_its_staff_template(kind):
    spec = kinds.spec_of(kind)
    if spec.payload_template is not None:
        assert (TEMPLATES / spec.payload_template).is_file()
