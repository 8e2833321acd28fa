"""Security headers on every response: pages, redirects, errors, JSON and static files."""

import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings
from portal.web.access import PUBLIC
from portal.web.endpoint import endpoint
from tests.helpers import new_person, sign_in_person


def directives(csp: str) -> dict[str, list[str]]:
    found = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


def assert_secure_headers(response, *, production: bool = False):
    headers = response.headers
    csp = directives(headers["content-security-policy"])
    script_sources = csp.get("script-src", csp.get("default-src"))
    assert script_sources, "no script-src"
    assert "'unsafe-inline'" not in script_sources and "'unsafe-eval'" not in script_sources
    assert "'unsafe-inline'" not in csp.get("default-src", [])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("no-referrer", "same-origin", "strict-origin",
                                          "strict-origin-when-cross-origin")
    if production:
        hsts = headers["strict-transport-security"]
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    else:
        assert "strict-transport-security" not in headers


@endpoint(PUBLIC)
def broken_view(ctx):
    raise RuntimeError("a test-only failure inside an endpoint")


def broken_plain_route(request):
    raise RuntimeError("a test-only failure outside the endpoint wrapper")


@pytest.fixture
def failing_app(settings, db):
    app = create_app(settings)
    app.router.routes[:0] = [Route("/test-only/broken-view", broken_view),
                             Route("/test-only/broken-route", broken_plain_route)]
    yield app
    app.state.engine.dispose()


@pytest.fixture
def production_app(database_url, db):
    app = create_app(Settings(database_url=database_url, secret_key="a-production-secret-for-tests",
                              env="production", payment_secret="a-production-payment-secret"))
    yield app
    app.state.engine.dispose()


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/login", 200), ("/register", 200), ("/healthz", 200), ("/me", 303), ("/no-such-page", 404),
    ("/static/css/portal.css", 200), ("/static/js/portal.js", 200), ("/static/no-such-file.css", 404),
])
def test_every_kind_of_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_secure_headers(response)


def test_a_refused_form_and_a_method_not_allowed_carry_them_too(client):
    assert_secure_headers(client.post("/login", data={}))
    not_allowed = client.delete("/login")
    assert not_allowed.status_code == 405
    assert_secure_headers(not_allowed)


def test_signed_in_pages_carry_them(client, db, frozen_clock):
    signed_in = sign_in_person(client, new_person(db))
    assert_secure_headers(signed_in)
    assert_secure_headers(client.get("/me"))
    assert client.get("/me").headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/test-only/broken-view", "/test-only/broken-route"])
def test_a_server_error_carries_them(failing_app, path):
    with TestClient(failing_app, raise_server_exceptions=False) as browser:
        response = browser.get(path)
    assert response.status_code == 500
    assert "<html" in response.text
    assert_secure_headers(response)


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/static/css/portal.css"])
def test_production_adds_strict_transport_security(production_app, path):
    with TestClient(production_app, base_url="https://testserver") as browser:
        assert_secure_headers(browser.get(path), production=True)


@pytest.mark.parametrize("path", ["/", "/login", "/login?account_type=staff", "/login?account_type=employer",
                                  "/register", "/register/employer", "/accessibility", "/privacy"])
def test_pages_have_no_inline_script_for_the_policy_to_block(client, path):
    page = client.get(path).text
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S):
        assert tag.strip() == "", f"inline script on {path}"
    assert not re.search(r"\son[a-z]+\s*=", page), f"inline event handler on {path}"
    assert 'href="javascript:' not in page
