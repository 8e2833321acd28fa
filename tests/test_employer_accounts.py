"""Employers register with their credit code; the first operator administers the others."""

import pytest
from sqlmodel import func, select

from portal.models import AuditEvent, Employer, EmployerOperator
from tests import factories
from tests.helpers import another_browser, error_links, field_error, sign_in_operator, token_from

pytestmark = pytest.mark.usefixtures("cheap_hashing")  # these tests create passwords

CODE = "91350100M000100Y43"
PASSWORD = "Harbour-Lights-Evening"
REGISTRATION = {"credit_code": CODE, "employer_name": "长春样例有限公司", "region": "220100", "username": "zhaoli",
                "operator_name": "赵丽", "mobile": "13912345678", "password": PASSWORD, "password_confirm": PASSWORD}


def register_employer(client, **changes):
    data = REGISTRATION | changes | {"csrf_token": token_from(client, "/register/employer?lang=en")}
    return client.post("/register/employer?lang=en", data=data)


def operators_form(client, path: str, **data):
    return client.post(path, data=data | {"csrf_token": token_from(client, "/employer/operators")})


def admin_and_clerk(db):
    employer = factories.employer(db)
    admin = factories.operator(db, employer_row=employer, username="admin", is_admin=True)
    clerk = factories.operator(db, employer_row=employer, username="clerk", name="孙强", is_admin=False)
    db.commit()
    return employer, admin, clerk


def test_a_new_employer_waits_for_verification_and_its_administrator_can_sign_in(client, db, frozen_clock):
    response = register_employer(client)

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/login?account_type=employer"
    employer = db.exec(select(Employer)).one()
    operator = db.exec(select(EmployerOperator)).one()
    assert (employer.credit_code, employer.status) == (CODE, "pending")
    assert (operator.employer_id, operator.username, operator.is_admin) == (employer.id, "zhaoli", True)
    assert "account.employer_registered" in db.exec(select(AuditEvent.action)).all()
    db.commit()

    signed_in = sign_in_operator(client, operator, CODE.lower(), PASSWORD)
    assert signed_in.headers["location"] == "/employer"
    dashboard = client.get("/employer?lang=en")
    assert dashboard.status_code == 200
    assert "Pending verification" in dashboard.text


def test_an_employer_cannot_be_registered_twice(client, db, frozen_clock):
    factories.employer(db, code=CODE)
    db.commit()

    response = register_employer(client, username="someone")

    assert response.status_code == 422
    assert error_links(response.text) == ["credit_code"]
    assert "This employer is already registered." in field_error(response.text, "credit_code")
    assert db.exec(select(func.count()).select_from(Employer)).one() == 1


def test_a_credit_code_with_a_wrong_check_character_is_refused_at_the_field(client, db, frozen_clock):
    response = register_employer(client, credit_code=CODE[:-1] + "4")
    assert response.status_code == 422
    assert "its last character does not match" in field_error(response.text, "credit_code")
    assert f'value="{CODE[:-1]}4"' in response.text
    assert db.exec(select(func.count()).select_from(Employer)).one() == 0


def test_an_operator_of_another_employer_cannot_sign_in_with_this_employers_code(client, db, frozen_clock):
    mine = factories.employer(db)
    factories.operator(db, employer_row=mine, username="admin")
    theirs = factories.employer(db, name="四平别家有限公司")
    outsider = factories.operator(db, employer_row=theirs, username="outsider")
    db.commit()

    refused = sign_in_operator(client, outsider, mine.credit_code)
    assert refused.status_code == 400
    assert client.get("/employer").status_code == 303

    assert sign_in_operator(client, outsider, theirs.credit_code).headers["location"] == "/employer"


def test_the_administrator_adds_an_operator_who_can_then_sign_in(client, app, db, frozen_clock):
    employer, admin, _clerk = admin_and_clerk(db)
    sign_in_operator(client, admin, employer.credit_code)

    response = operators_form(client, "/employer/operators", name="钱多多", username="qian", mobile="13700000003",
                              password=PASSWORD, password_confirm=PASSWORD)

    assert response.status_code == 303, response.text
    added = db.exec(select(EmployerOperator).where(EmployerOperator.username == "qian")).one()
    assert (added.employer_id, added.is_admin, added.active) == (employer.id, False, True)
    db.commit()
    with another_browser(app) as newcomer:
        assert sign_in_operator(newcomer, added, employer.credit_code, PASSWORD).headers["location"] == "/employer"


def test_a_user_name_already_taken_at_the_employer_is_refused(client, db, frozen_clock):
    employer, admin, _clerk = admin_and_clerk(db)
    sign_in_operator(client, admin, employer.credit_code)

    response = operators_form(client, "/employer/operators?lang=en", name="钱多多", username="clerk",
                              mobile="13700000003", password=PASSWORD, password_confirm=PASSWORD)

    assert response.status_code == 422
    assert error_links(response.text) == ["username"]
    assert db.exec(select(func.count()).select_from(EmployerOperator)).one() == 2


def test_a_disabled_operator_is_signed_out_and_cannot_sign_in_again(client, app, db, frozen_clock):
    employer, admin, clerk = admin_and_clerk(db)
    with another_browser(app) as clerks_browser:
        sign_in_operator(clerks_browser, clerk, employer.credit_code)
        assert clerks_browser.get("/employer").status_code == 200
        sign_in_operator(client, admin, employer.credit_code)

        response = operators_form(client, f"/employer/operators/{clerk.id}/active", active="0")

        assert response.status_code == 303
        db.refresh(clerk)
        assert clerk.active is False
        db.commit()
        after = clerks_browser.get("/employer")
        assert after.status_code == 303 and after.headers["location"].startswith("/login")
        assert sign_in_operator(clerks_browser, clerk, employer.credit_code).status_code == 400
        assert clerks_browser.get("/employer").status_code == 303
    assert "account.operator_disabled" in db.exec(select(AuditEvent.action)).all()


def test_the_administrator_cannot_disable_themself(client, db, frozen_clock):
    employer, admin, _clerk = admin_and_clerk(db)
    sign_in_operator(client, admin, employer.credit_code)

    response = operators_form(client, f"/employer/operators/{admin.id}/active?lang=en", active="0")

    assert response.status_code == 409
    assert "You cannot disable your own account." in response.text
    db.refresh(admin)
    assert admin.active is True
    db.commit()
    assert client.get("/employer").status_code == 200


def test_an_operator_who_is_not_the_administrator_may_not_manage_operators(client, db, frozen_clock):
    employer, admin, clerk = admin_and_clerk(db)
    sign_in_operator(client, clerk, employer.credit_code)

    assert client.get("/employer").status_code == 200
    assert client.get("/employer/operators").status_code == 403
    token = token_from(client, "/employer")
    response = client.post(f"/employer/operators/{admin.id}/active", data={"active": "0", "csrf_token": token})
    assert response.status_code == 403
    db.refresh(admin)
    assert admin.active is True


def test_an_administrator_cannot_disable_another_employers_operator(client, db, frozen_clock):
    employer, admin, _clerk = admin_and_clerk(db)
    other = factories.employer(db, name="通化别家有限公司")
    stranger = factories.operator(db, employer_row=other, username="stranger", is_admin=False)
    db.commit()
    sign_in_operator(client, admin, employer.credit_code)

    response = operators_form(client, f"/employer/operators/{stranger.id}/active", active="0")

    assert response.status_code == 404
    db.refresh(stranger)
    assert stranger.active is True


def test_the_operators_page_lists_only_the_employers_own_operators(client, db, frozen_clock):
    employer, admin, _clerk = admin_and_clerk(db)
    other = factories.employer(db, name="通化别家有限公司")
    factories.operator(db, employer_row=other, username="stranger", name="外人甲")
    db.commit()
    sign_in_operator(client, admin, employer.credit_code)

    page = client.get("/employer/operators").text

    assert "孙强" in page and "clerk" in page
    assert "外人甲" not in page and "stranger" not in page
