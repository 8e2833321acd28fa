"""Five wrong passwords lock an account for 15 minutes, told to the holder by SMS and never on the page; many
failures from one address slow that address."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal import clock
from portal.models import PersonAccount
from tests import factories
from tests.helpers import (
    WRONG_PASSWORD,
    another_browser,
    error_links,
    new_person,
    session_cookie,
    sign_in_operator,
    sign_in_person,
    sign_in_staff,
    token_from,
)

LOCKED = "This account is locked after too many failed attempts."
WRONG = "The account details, password or one-time code are not right."
THROTTLED = "Too many failed sign-in attempts from your network."


def fail(client, number: str, times: int):
    return [sign_in_person(client, number, WRONG_PASSWORD, headers={"Accept-Language": "en"}) for _ in range(times)]


def test_four_wrong_passwords_leave_the_account_open(client, db, frozen_clock):
    number = new_person(db)
    responses = fail(client, number, 4)
    assert [r.status_code for r in responses] == [400] * 4
    assert all(WRONG in r.text and LOCKED not in r.text for r in responses)
    assert sign_in_person(client, number).headers["location"] == "/me"


def test_a_fifth_wrong_password_locks_the_account_for_fifteen_minutes_and_tells_only_the_holder(
        client, db, frozen_clock):
    number = new_person(db, mobile="13911112222")

    fifth = fail(client, number, 5)[-1]

    assert fifth.status_code == 400
    assert WRONG in fifth.text and LOCKED not in fifth.text and "10:15" not in fifth.text
    assert 'href="/password/forgotten"' in fifth.text  # how to get back in
    account = db.exec(select(PersonAccount)).one()
    assert account.locked_until == clock.now() + timedelta(minutes=15)
    [notice] = client.app.state.notifier.messages(to="13911112222")
    assert "10:15" in notice.text  # 02:15 UTC is 10:15 in Jilin, in the SMS to the number on record


def test_a_sixth_wrong_password_finds_the_account_locked(client, db, frozen_clock):
    number = new_person(db)
    sixth = fail(client, number, 6)[-1]
    assert sixth.status_code == 400 and WRONG in sixth.text and LOCKED not in sixth.text


def test_the_right_password_is_refused_while_the_account_is_locked(client, db, frozen_clock):
    number = new_person(db)
    fail(client, number, 5)
    frozen_clock(clock.now() + timedelta(minutes=14, seconds=59))

    response = sign_in_person(client, number, headers={"Accept-Language": "en"})

    assert response.status_code == 400 and WRONG in response.text
    assert session_cookie(client) is None
    assert client.get("/me").status_code == 303


def test_the_account_opens_again_after_fifteen_minutes_with_a_fresh_count(client, db, frozen_clock):
    number = new_person(db)
    fail(client, number, 5)
    frozen_clock(clock.now() + timedelta(minutes=15, seconds=1))

    assert sign_in_person(client, number).headers["location"] == "/me"
    account = db.exec(select(PersonAccount)).one()
    assert (account.failed_logins, account.locked_until) == (0, None)
    db.commit()

    with another_browser(client.app) as browser:
        assert [r.status_code for r in fail(browser, number, 4)] == [400] * 4  # counted from zero again


def test_a_successful_sign_in_resets_the_count_of_failures(client, db, frozen_clock):
    number = new_person(db)
    fail(client, number, 4)
    sign_in_person(client, number)
    with another_browser(client.app) as browser:
        assert [r.status_code for r in fail(browser, number, 4)] == [400] * 4


def test_employer_operators_are_locked_out_too(client, db, frozen_clock):
    admin = factories.operator(db)
    code = db.get(factories.Employer, admin.employer_id).credit_code
    db.commit()
    statuses = [sign_in_operator(client, admin, code, WRONG_PASSWORD).status_code for _ in range(5)]
    assert statuses == [400] * 5
    assert sign_in_operator(client, admin, code).status_code == 400
    db.expire_all()
    assert db.get(factories.EmployerOperator, admin.id).locked_until is not None


def test_staff_are_locked_out_by_wrong_codes_too(client, db, frozen_clock):
    member = factories.staff(db)
    db.commit()
    statuses = [sign_in_staff(client, member, otp="000000").status_code for _ in range(5)]
    assert statuses == [400] * 5
    assert sign_in_staff(client, member).status_code == 400
    db.expire_all()
    assert db.get(factories.StaffMember, member.id).locked_until is not None


@pytest.fixture
def thirty_failures(client, db, frozen_clock):
    """Six accounts, five wrong passwords each: thirty failures from one address."""
    numbers = [new_person(db, mobile=f"139000000{i:02d}") for i in range(6)]
    for number in numbers:
        fail(client, number, 5)
    return numbers


def test_thirty_failures_from_one_address_stop_even_a_right_password_from_it(client, db, thirty_failures):
    number = new_person(db)

    response = sign_in_person(client, number, headers={"Accept-Language": "en"})

    assert response.status_code == 429 and THROTTLED in response.text and "Wait 15 minutes" in response.text
    assert response.headers["Retry-After"] == "900"
    assert session_cookie(client) is None


def test_other_addresses_are_not_throttled(client, db, thirty_failures):
    number = new_person(db)
    with another_browser(client.app, address="10.20.30.40") as elsewhere:
        assert sign_in_person(elsewhere, number).headers["location"] == "/me"


def test_the_address_may_try_again_once_the_window_has_passed(client, db, frozen_clock, thirty_failures):
    number = new_person(db)
    frozen_clock(clock.now() + timedelta(minutes=15, seconds=1))
    assert sign_in_person(client, number).headers["location"] == "/me"


def test_twenty_nine_failures_are_not_yet_throttled(client, db, frozen_clock):
    numbers = [new_person(db, mobile=f"139000000{i:02d}") for i in range(6)]
    for number in numbers[:5]:
        fail(client, number, 5)
    fail(client, numbers[5], 4)
    assert sign_in_person(client, new_person(db)).headers["location"] == "/me"


def test_a_refused_sign_in_keeps_the_account_name_but_never_the_password(client, db, frozen_clock):
    number = new_person(db)
    response = sign_in_person(client, number, WRONG_PASSWORD, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert f'value="{number}"' in response.text
    assert WRONG_PASSWORD not in response.text
    assert 'id="sign-in-problem"' in response.text and WRONG in response.text


def test_an_empty_sign_in_form_lists_what_is_missing(client):
    client.get("/login")
    response = client.post("/login?lang=en", data={"account_type": "employer",
                                                   "csrf_token": token_from(client, "/login")})
    assert response.status_code == 422
    assert error_links(response.text) == ["employer_code", "username", "password"]  # the order of the form
