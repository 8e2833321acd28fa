"""Staff sign in with a password and a one-time code, and verify newly registered employers."""

from datetime import timedelta

from portal import clock
from tests import factories
from tests.helpers import (
    WRONG_PASSWORD,
    another_browser,
    current_code,
    error_links,
    new_person,
    sign_in,
    sign_in_person,
    sign_in_staff,
)


def staff_member(db, roles="handler"):
    member = factories.staff(db, roles=roles)
    db.commit()
    return member


def test_a_password_and_a_current_code_sign_staff_in_to_the_staff_pages(client, db, frozen_clock):
    member = staff_member(db)

    response = sign_in_staff(client, member)

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/staff"
    assert client.get("/staff").status_code == 200


def test_a_password_without_a_code_is_not_enough(client, db, frozen_clock):
    member = staff_member(db)

    response = sign_in_staff(client, member, otp="", headers={"Accept-Language": "en"})

    assert response.status_code == 422
    assert error_links(response.text) == ["otp"]
    assert client.get("/staff").status_code == 303


def test_a_wrong_code_is_refused(client, db, frozen_clock):
    member = staff_member(db)
    code = current_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    assert sign_in_staff(client, member, otp=wrong).status_code == 400
    assert sign_in_staff(client, member, otp="abcdef").status_code == 400
    assert client.get("/staff").status_code == 303


def test_a_right_code_with_a_wrong_password_is_refused(client, db, frozen_clock):
    member = staff_member(db)
    assert sign_in_staff(client, member, password=WRONG_PASSWORD).status_code == 400
    assert client.get("/staff").status_code == 303


def test_a_code_from_two_minutes_ago_is_refused(client, db, frozen_clock):
    member = staff_member(db)
    stale = current_code(at=clock.now() - timedelta(minutes=2))
    assert stale != current_code()
    assert sign_in_staff(client, member, otp=stale).status_code == 400


def test_a_code_can_be_used_only_once(client, app, db, frozen_clock):
    member = staff_member(db)
    code = current_code()
    assert sign_in_staff(client, member, otp=code).status_code == 303

    with another_browser(app) as eavesdropper:
        assert sign_in_staff(eavesdropper, member, otp=code).status_code == 400
        assert eavesdropper.get("/staff").status_code == 303

        frozen_clock(clock.now() + timedelta(seconds=30))
        assert sign_in_staff(eavesdropper, member).status_code == 303


def test_a_person_may_not_open_the_staff_pages(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    assert client.get("/staff").status_code == 403
    assert client.get("/staff/queue").status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in_and_then_back(client, db, frozen_clock):
    member = staff_member(db)

    first = client.get("/staff/queue?page=2")

    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2Fstaff%2Fqueue%3Fpage%3D2&account_type=staff"
    login_page = client.get(first.headers["location"])
    assert 'name="next" value="/staff/queue?page=2"' in login_page.text
    signed_in = sign_in_staff(client, member, next_page="/staff/queue?page=2")
    assert signed_in.headers["location"] == "/staff/queue?page=2"
    assert client.get("/staff/queue?page=2").status_code == 200


def test_a_next_address_on_another_site_is_ignored(client, db, frozen_clock):
    member = staff_member(db)
    for target in ("https://evil.example/", "//evil.example/staff", "javascript:alert(1)"):
        with another_browser(client.app) as browser:
            response = sign_in(browser, account_type="staff", username=member.staff_number,
                               otp=current_code(), next_page=target)
            assert response.headers["location"] == "/staff", target
        frozen_clock(clock.now() + timedelta(seconds=30))  # a fresh code for the next attempt


def test_the_old_verification_address_leads_to_the_verification_queue(client, db, frozen_clock):
    sign_in_staff(client, staff_member(db))

    response = client.get("/staff/employers")

    assert response.status_code == 301
    assert response.headers["location"] == "/staff/queue?kind=employer_verification"
