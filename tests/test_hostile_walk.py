"""Every route, as every kind of visitor, with hostile path values, queries and form fields: never a server error."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from starlette.routing import Route

from tests import factories
from tests.helpers import new_person, sign_in_person, sign_in_staff
from tests.records.test_employer_pages import Firm

HOSTILE = ["9" * 30, str(2**31), str(2**63), "²", "①", "١٢", "-1", "0", "1e3", "NaN", "'", "<script>", "..", "%", "\u202e"]
FIELDS = ("page", "year", "amount", "wage", "version", "assignee", "up_to", "base_percent", "contribution_year",
          "month", "start_month", "end_month", "months", "bill", "pay_on", "id_number", "name", "mobile", "reference",
          "decision", "action", "reason", "reason_code", "note", "birth_date", "months_paid", "average_index",
          "account_balance", "active", "username", "password", "code", "lang", "next", "kind", "state")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def visitor(kind, client, db):
    if kind == "person":
        sign_in_person(client, new_person(db))
        return "/me"
    if kind == "employer":
        Firm(db).sign_in(client)
        return "/employer"
    if kind == "staff":
        member = factories.staff(db, roles="handler,reviewer,supervisor")
        db.commit()
        sign_in_staff(client, member)
        return "/staff"
    return "/"


def routes(app, method: str) -> list[Route]:
    return [route for route in app.routes if isinstance(route, Route) and method in (route.methods or ())]


def filled(route: Route, value: str) -> str:
    path = route.path
    for name in route.param_convertors:
        path = re.sub(r"\{" + name + r"(:[a-z]+)?\}", quote(value, safe=""), path)
    return path


@pytest.mark.parametrize("kind", ["anonymous", "person", "employer", "staff"])
def test_every_page_answers_hostile_paths_and_queries_without_a_server_error(app, client, db, frozen_clock, kind):
    visitor(kind, client, db)
    failures, cases = [], 0
    for route in routes(app, "GET"):
        for value in HOSTILE:
            query = {name: value for name in ("page", "year", "q", "kind", "state", "prefecture", "code", "lang")}
            path = filled(route, value)
            response = client.get(path, params=query)
            cases += 1
            if response.status_code >= 500:
                failures.append((path, value, response.status_code))
    assert cases > 100 and failures == []


@pytest.mark.parametrize("kind", ["anonymous", "person", "employer", "staff"])
def test_every_form_answers_hostile_fields_without_a_server_error(app, client, db, frozen_clock, kind):
    home = visitor(kind, client, db)
    failures = []
    for route in routes(app, "POST"):
        if route.name == "payments_callback" or route.path == "/logout":
            continue  # the callback has its own fuzz; signing out would end the walk
        for value in HOSTILE[:6]:
            token = CSRF.search(client.get(home).text)
            data = {name: value for name in FIELDS} | {"csrf_token": token.group(1) if token else ""}
            response = client.post(filled(route, value), data=data)
            if response.status_code >= 500:
                failures.append((route.path, value, response.status_code))
    assert failures == []

