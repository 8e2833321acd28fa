"""`portal seed --demo` creates the demo accounts once; each of them can sign in."""

import json

import pytest
from sqlmodel import func, select

from portal.cli import main as portal
from portal.models import Employer, EmployerOperator, Person, PersonAccount, StaffMember
from tests.helpers import another_browser, current_code, sign_in

KEYS = {"person": {"kind", "label", "username", "password"},
        "employer": {"kind", "label", "username", "password", "employer_code"},
        "staff": {"kind", "label", "username", "password", "totp_secret"}}


@pytest.fixture
def cli_database(database_url, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_ENV", "test")


@pytest.fixture
def seeded(db, cli_database, cheap_hashing, frozen_clock, capsys):
    """The demo accounts as ``portal seed --demo --json`` prints them."""
    assert portal(["seed", "--demo", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def counts(db) -> dict[str, int]:
    found = {model.__name__: db.exec(select(func.count()).select_from(model)).one()
             for model in (Person, PersonAccount, Employer, EmployerOperator, StaffMember)}
    db.commit()
    return found


def test_the_health_check_answers_in_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


def test_seeding_twice_creates_the_accounts_once(db, seeded, capsys):
    first = counts(db)
    assert first == {"Person": 3, "PersonAccount": 3, "Employer": 1, "EmployerOperator": 2, "StaffMember": 3}

    assert portal(["seed", "--demo"]) == 0

    assert counts(db) == first
    assert "Jilin-Demo-2026" in capsys.readouterr().out


def test_the_json_lists_every_demo_account_with_the_documented_fields(seeded):
    assert sorted((account["kind"], account["label"]) for account in seeded) == sorted([
        ("person", "employee"), ("person", "flexible"), ("person", "retiree"),
        ("employer", "admin"), ("employer", "clerk"),
        ("staff", "handler"), ("staff", "reviewer"), ("staff", "supervisor")])
    for account in seeded:
        assert set(account) == KEYS[account["kind"]], account
        assert all(isinstance(value, str) and value for value in account.values()), account


def test_the_demo_employer_is_verified(db, seeded):
    employer = db.exec(select(Employer)).one()
    assert employer.status == "verified"
    assert {account["employer_code"] for account in seeded if account["kind"] == "employer"} == {
        employer.credit_code}


def test_every_demo_account_can_sign_in(app, seeded, frozen_clock):
    homes = {"person": "/me", "employer": "/employer", "staff": "/staff"}
    for account in seeded:
        with another_browser(app) as browser:
            response = sign_in(browser, account_type=account["kind"], username=account["username"],
                               password=account["password"], employer_code=account.get("employer_code", ""),
                               otp=current_code(account["totp_secret"]) if "totp_secret" in account else "")
            assert response.status_code == 303, (account["label"], response.text)
            assert response.headers["location"] == homes[account["kind"]]
            assert browser.get(homes[account["kind"]]).status_code == 200, account["label"]


@pytest.mark.parametrize("command", [["seed", "--demo"], ["synth", "--persons", "10"]])
def test_a_production_portal_seeds_no_demo_accounts_and_no_synthetic_province(db, database_url, command):
    import os
    import subprocess
    import sys

    environment = {**os.environ, "PORTAL_ENV": "production", "PORTAL_DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-m", "portal.cli", *command], env=environment,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "portal.devtools is for development and tests" in result.stderr
    assert set(counts(db).values()) == {0}
