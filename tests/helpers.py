"""Shared steps for tests that drive the app: open a form, sign in, read what came back."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from portal import clock
from portal.auth import sessions
from portal.auth.totp import code_at
from portal.models import Person
from tests import factories
from tests.conftest import csrf_token

PASSWORD = factories.PASSWORD
WRONG_PASSWORD = "Not-The-Password-1"
SESSION_COOKIE = sessions.COOKIE
ERROR_LINK = re.compile(r'<a href="#field-([a-z_]+)">')
STAFF_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the factories' default


def token_from(client, path: str = "/login") -> str:
    """The CSRF token of the form at ``path``, as a browser would find it in the page."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_token(page.text)


def sign_in(client, *, account_type: str, username: str, password: str = PASSWORD, employer_code: str = "",
            otp: str = "", next_page: str | None = None, headers: dict | None = None):
    """Submits the sign-in form the way a visitor does (page first, for the CSRF token)."""
    data = {"account_type": account_type, "username": username, "password": password,
            "csrf_token": token_from(client, f"/login?account_type={account_type}")}
    if employer_code:
        data["employer_code"] = employer_code
    if otp:
        data["otp"] = otp
    if next_page is not None:
        data["next"] = next_page
    return client.post("/login", data=data, headers=headers or {})


def id_number_of(db, account) -> str:
    return db.get(Person, account.person_id).id_number


def new_person(db, **kwargs) -> str:
    """A person with an account, committed; returns the identity number they sign in with."""
    account = factories.person_account(db, **kwargs)
    number = id_number_of(db, account)
    db.commit()
    return number


def sign_in_person(client, number: str, password: str = PASSWORD, **kwargs):
    return sign_in(client, account_type="person", username=number, password=password, **kwargs)


def sign_in_operator(client, operator, credit_code: str, password: str = PASSWORD, **kwargs):
    return sign_in(client, account_type="employer", username=operator.username, password=password,
                   employer_code=credit_code, **kwargs)


def current_code(secret: str = STAFF_SECRET, at: datetime | None = None) -> str:
    """What the staff member's authenticator app shows now (the frozen clock's now)."""
    return code_at(secret, at or clock.now())


def sign_in_staff(client, staff, password: str = PASSWORD, otp: str | None = None, **kwargs):
    return sign_in(client, account_type="staff", username=staff.staff_number, password=password,
                   otp=current_code(staff.totp_secret) if otp is None else otp, **kwargs)


def session_cookie(client) -> str | None:
    return client.cookies.get(SESSION_COOKIE)


def set_cookie_headers(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def cookie_header(response, name: str) -> str:
    for header in set_cookie_headers(response):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}: {set_cookie_headers(response)}")


def error_links(html: str) -> list[str]:
    """The fields the error summary links to, in order."""
    return ERROR_LINK.findall(html)


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field__error" id="field-{name}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, "the page has no <html lang>"
    return found.group(1)


def at(year: int, month: int, day: int, hour: int = 2, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def another_browser(app, *, address: str = "testclient", base_url: str = "http://testserver"):
    """A second visitor with their own cookie jar (and, if given, their own network address), on the same app."""
    from starlette.testclient import TestClient

    return TestClient(app, base_url=base_url, follow_redirects=False, client=(address, 50000))


def app_routes(app):
    """Every (path, methods, endpoint) the app serves, descending into mounts except the static files."""
    from starlette.routing import Mount, Route

    def walk(routes, prefix=""):
        for route in routes:
            if isinstance(route, Mount):
                if route.path == "/static":
                    continue
                yield from walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                yield prefix + route.path, sorted(route.methods or ()), route.endpoint
            else:
                raise AssertionError(f"a route of an unknown kind: {route!r}")

    return list(walk(app.routes))


PATH_PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def fill_path(path: str, values: dict | None = None) -> str:
    """A concrete address for a route template: known ids where given, 1 otherwise."""
    values = values or {}
    return PATH_PARAM.sub(lambda match: str(values.get(match.group(1), 1)), path)


class Cast:
    """One account of every kind, committed: a person, an employer's administrator and clerk, staff."""

    def __init__(self, db, *, staff_roles: str = "handler reviewer supervisor admin"):
        self.number = new_person(db)
        self.employer = factories.employer(db)
        self.admin = factories.operator(db, employer_row=self.employer, username="admin", is_admin=True)
        self.clerk = factories.operator(db, employer_row=self.employer, username="clerk", name="孙强",
                                        is_admin=False)
        self.pending = factories.employer(db, name="待核单位有限公司", status="pending")
        self.staff = factories.staff(db, roles=staff_roles)
        db.commit()

    @property
    def path_values(self) -> dict:
        return {"operator_id": self.clerk.id, "employer_id": self.pending.id}

    def browser(self, app, kind: str, **options):
        """A browser signed in as ``kind``: anonymous, person, employer (the admin), clerk or staff."""
        from datetime import timedelta

        browser = another_browser(app, **options)
        if kind == "anonymous":
            assert browser.get("/login").status_code == 200
        elif kind == "person":
            assert sign_in_person(browser, self.number).status_code == 303
        elif kind in ("employer", "clerk"):
            operator = self.admin if kind == "employer" else self.clerk
            assert sign_in_operator(browser, operator, self.employer.credit_code).status_code == 303
        elif kind == "staff":
            clock.freeze(clock.now() + timedelta(seconds=30))  # a code not used yet
            assert sign_in_staff(browser, self.staff).status_code == 303
        else:
            raise ValueError(kind)
        return browser


def snapshot(engine) -> dict[str, list]:
    """Every row of every table: compare two snapshots to see that a request changed nothing."""
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        return {table.name: sorted(map(repr, connection.execute(table.select()).all()))
                for table in SQLModel.metadata.sorted_tables}
