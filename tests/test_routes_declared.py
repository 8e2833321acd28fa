"""Every route declares who may call it, and the declaration holds for every kind of visitor."""

from datetime import timedelta
from urllib.parse import quote

import pytest

from portal import clock
from portal.app import create_app
from portal.auth.principal import STAFF_ROLES
from portal.web.access import Access
from tests import factories
from tests.helpers import Cast, another_browser, app_routes, fill_path, sign_in_staff

KINDS = ("person", "employer", "staff")


@pytest.fixture
def cast(db, frozen_clock):
    return Cast(db)


def declared(app):
    return [(path, methods, endpoint.__access__) for path, methods, endpoint in app_routes(app)]


def test_every_route_declares_who_may_call_it(settings):
    app = create_app(settings)
    try:
        undeclared = [f"{' '.join(methods)} {path}" for path, methods, endpoint in app_routes(app)
                      if not isinstance(getattr(endpoint, "__access__", None), Access)]
    finally:
        app.state.engine.dispose()
    assert undeclared == []


def test_the_walk_sees_the_routes_of_every_area(app):
    kinds = {access.kind for _path, _methods, access in declared(app)}
    assert kinds == {"public", *KINDS}
    assert any(access.employer_admin for _path, _methods, access in declared(app))


def test_an_anonymous_visitor_to_any_protected_page_is_sent_to_sign_in(app, client, cast):
    protected = [(path, access) for path, methods, access in declared(app)
                 if "GET" in methods and access.kind != "public"]
    assert protected
    for template, access in protected:
        path = fill_path(template, cast.path_values)
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={quote(path, safe='')}&account_type={access.kind}", path


def test_an_anonymous_post_to_a_protected_address_is_sent_to_sign_in_and_changes_nothing(app, client, cast):
    client.get("/login")
    for path, methods, access in declared(app):
        if "POST" in methods and access.kind != "public":
            response = client.post(fill_path(path, cast.path_values), data={})
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path


def test_every_route_refuses_an_account_of_the_wrong_kind(app, cast):
    browsers = {kind: cast.browser(app, kind) for kind in KINDS}
    try:
        checked = 0
        for template, methods, access in declared(app):
            if access.kind == "public":
                continue
            path = fill_path(template, cast.path_values)
            for kind in KINDS:
                if kind == access.kind:
                    continue
                for method in methods:
                    if method == "HEAD":
                        continue
                    response = browsers[kind].request(method, path, headers={"Accept-Language": "en"})
                    assert response.status_code == 403, (method, path, kind, response.status_code)
                    assert "You cannot see this page" in response.text, (method, path, kind)
                    checked += 1
        assert checked > 0
    finally:
        for browser in browsers.values():
            browser.close()


def test_administrator_only_routes_refuse_an_ordinary_operator(app, cast):
    admin_only = [(path, methods) for path, methods, access in declared(app) if access.employer_admin]
    assert admin_only
    with cast.browser(app, "clerk") as clerk:
        for template, methods in admin_only:
            for method in set(methods) - {"HEAD"}:
                response = clerk.request(method, fill_path(template, cast.path_values))
                assert response.status_code == 403, (method, template)


def test_staff_routes_refuse_staff_without_one_of_their_roles(app, db, frozen_clock):
    limited = [(path, methods, access) for path, methods, access in declared(app)
               if access.kind == "staff" and access.roles and set(STAFF_ROLES) - access.roles]
    assert limited, "expected at least one staff route limited to some roles (e.g. the supervisors' workload)"
    for template, methods, access in limited:
        outside = sorted(set(STAFF_ROLES) - access.roles)[0]
        member = factories.staff(db, roles=outside)
        db.commit()
        frozen_clock(clock.now() + timedelta(seconds=30))
        with another_browser(app) as browser:
            assert sign_in_staff(browser, member).status_code == 303
            for method in set(methods) - {"HEAD"}:
                response = browser.request(method, fill_path(template))
                assert response.status_code == 403, (method, template, outside)


def test_each_kind_of_account_reaches_its_own_home(app, cast):
    for kind, home in (("person", "/me"), ("employer", "/employer"), ("staff", "/staff")):
        with cast.browser(app, kind) as browser:
            assert browser.get(home).status_code == 200, kind
