"""No internal name reaches a page: every page each demo account can reach, in Chinese and in English, is read
for snake_case codes (``no_duplicate``, ``late_fee_daily_rate``) in its visible text, and Chinese pages for dates
written as 2026-11 rather than 2026年11月.

The walk starts from each account's home page and follows every link of the portal it finds, as a visitor
clicking through would, over the demo data plus requests in several states of handling.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlmodel import select

from portal import clock
from portal.devtools import demo
from portal.models import EmployerOperator, Person, StaffMember, WebSession
from portal.policy.dates import add_months, fmt_month, month_of
from tests.helpers import another_browser, current_code, sign_in
from tests.trust_support import COMMIT, face, offer
from tests.visible_text import internal_names, visible_text

LINK = re.compile(r'<a\b[^>]*\bhref="([^"#]*)"')
NOT_PAGES = ("/static/", "/logout", "/dev/")
DOWNLOADS = (".csv", ".pdf", ".xlsx", "/download", "/file")
MAX_PAGES = 160  # per account and language; the demo reaches fewer
MAX_VARIANTS = 4  # addresses differing only in their query (filters, pages) count as one page after this
ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}(?:-\d{2})?(?!\d)")
FORMAT_HINT = re.compile(r"(?:例如|如)[^。；]*")  # "按“年-月”填写，例如2019-03": how to type a month is shown as typed


def _actor(db, kind: str, account_id: int):
    from portal.auth import sessions
    from portal.auth.principal import Actor

    now = clock.now()
    row = WebSession(id=f"walk-{kind}-{account_id}", account_kind=kind, account_id=account_id, created_at=now,
                     last_seen_at=now)
    return Actor(principal=sessions.principal_for(session=db, row=row), address="walk")


def _requests_in_several_states(db) -> None:
    """A deferral decided after review, a record correction handed back to the person, one left waiting."""
    from portal.queue import service as queue
    from portal.services import applications, person_requests

    now, today = clock.now(), clock.now().astimezone(clock.CHINA).date()
    admin = db.exec(select(EmployerOperator).where(EmployerOperator.username == "admin")).one()
    employer = _actor(db, "employer", admin.id)
    deferral = applications.submit_deferral(
        db, actor=employer, months=[fmt_month(add_months(month_of(today), -1))], reason="订单减少，资金周转困难",
        **(COMMIT | {"password": demo.DEMO_PASSWORD}), token="walk-deferral", now=now, today=today)
    person = db.exec(select(Person).where(Person.id_number == demo.PERSONS[0][1])).one()
    from portal.models import PersonAccount

    account = db.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).one()
    filing = person_requests.online(db, actor=face(_actor(db, "person", account.id)))  # signs with the card
    correction = person_requests.submit_correction(
        db, filing=filing, what="missing", months="2023-01 to 2023-03", details="这几个月在长春工作，单位未申报",
        offer=offer("employment_history"), token="walk-correction", now=now,
        today=today)
    person_requests.submit_correction(
        db, filing=filing, what="wrong_base", months="2021-05", details="基数偏低",
        offer=offer("employment_history"), token="walk-correction-2", now=now,
        today=today)
    queue.run_auto(db, now=now)
    staff = {member.staff_number: _actor(db, "staff", member.id) for member in db.exec(select(StaffMember)).all()}
    handler, reviewer = staff[demo.STAFF[0][1]], staff[demo.STAFF[1][1]]

    def act(case, action, actor, **options):
        case = queue.load_case(db, reference=case.reference, actor=actor)
        return queue.act(db, reference=case.reference, action=action, actor=actor, expected_version=case.version,
                         now=now, **options)

    deferral = act(deferral, "take", handler)
    deferral = act(deferral, "submit_for_review", handler, recommendation="approve", reason_code="conditions_met",
                   note="经核实属实")
    act(deferral, "review_reject", reviewer, reason_code="calculation_error", note="请重新核对金额")
    correction = act(correction, "take", handler)
    act(correction, "return_to_applicant", handler, reason_code="missing_document", note="请补充劳动合同")
    db.commit()


def seed_demo_world(db) -> dict:
    """The demo data and requests in several states; the demo accounts by label."""
    now = clock.now()
    demo.seed(session=db, now=now, today=now.astimezone(clock.CHINA).date())
    db.commit()
    _requests_in_several_states(db)
    return {account.label: account for account in demo.demo_accounts()}


@pytest.fixture
def demo_world(db, frozen_clock, cheap_hashing):
    return seed_demo_world(db)


def _signed_in(app, account):
    browser = another_browser(app)
    otp = ""
    if account.totp_secret:
        clock.freeze(clock.now() + timedelta(seconds=30))  # a code not used yet
        otp = current_code(account.totp_secret)
    response = sign_in(browser, account_type=account.kind, username=account.username, password=account.password,
                       employer_code=account.employer_code or "", otp=otp)
    assert response.status_code == 303, (account.label, response.text[:500])
    return browser


def _page_key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if k != "lang"))
    return parts.path, query


def walk(browser, *starts: str) -> dict[str, str]:
    """Every page reachable by links from ``starts``: address -> HTML."""
    seen: dict[tuple[str, str], str] = {}
    variants: dict[str, int] = {}
    pending = deque(starts)
    while pending and len(seen) < MAX_PAGES:
        path, query = _page_key(pending.popleft())
        if (path, query) in seen or variants.get(path, 0) >= MAX_VARIANTS:
            continue
        variants[path] = variants.get(path, 0) + 1
        address = f"{path}?{query}" if query else path
        response = browser.get(address)
        if response.status_code in (301, 302, 303, 307):
            pending.append(response.headers["location"])
            seen[(path, query)] = ""
            continue
        assert response.status_code < 500, (address, response.status_code)
        if not response.headers.get("content-type", "").startswith("text/html"):
            seen[(path, query)] = ""
            continue
        seen[(path, query)] = response.text
        for href in LINK.findall(response.text):
            href = href.replace("&amp;", "&")
            if not href.startswith("/") or href.startswith("//"):
                continue
            if any(part in href for part in NOT_PAGES) or urlsplit(href).path.endswith(DOWNLOADS):
                continue
            pending.append(href)
    return {(f"{path}?{query}" if query else path): html for (path, query), html in seen.items() if html}


ACCOUNTS = ("employee", "flexible", "retiree", "admin", "clerk", "handler", "reviewer", "supervisor")
HOMES = {"person": "/me", "employer": "/employer", "staff": "/staff"}
# Pages behind a form rather than a link: an estimate with its explanation, and decided cases no list shows.
ESTIMATE = ("/estimate?birth_date=1970-03-15&category=male&region=220100&months_paid=300&months_expected=60"
            "&average_index=1.00&account_balance=80000.00")


def _starts(db, account) -> list[str]:
    from portal.models.queue import Case

    if account is None:
        return ["/", ESTIMATE]
    starts = [HOMES[account.kind]]
    if account.kind == "staff":
        starts += [f"/staff/cases/{reference}" for reference in db.exec(select(Case.reference)).all()]
        db.commit()  # end the read, so the app may write
    return starts


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_no_page_shows_an_internal_name_to_anyone(app, db, demo_world, language):
    found: dict[str, list[str]] = {}
    pages = 0
    visitors = [("anonymous", None)] + [(label, demo_world[label]) for label in ACCOUNTS]
    for label, account in visitors:
        starts = _starts(db, account)
        browser = another_browser(app) if account is None else _signed_in(app, account)
        browser.cookies.set("portal_lang", language)
        reached = walk(browser, *starts)
        pages += len(reached)
        for address, html in reached.items():
            text = visible_text(html)
            names = internal_names(text)
            if language == "zh_CN":
                names += [f"date {day}" for day in ISO_DATE.findall(FORMAT_HINT.sub("", text))]
            if names:
                found[f"{label} {address}"] = names
        browser.close()
    assert pages > 60, f"the walk reached only {pages} pages"
    assert not found, "internal names on pages:\n" + "\n".join(f"{where}: {names}" for where, names in found.items())


def test_the_reader_finds_a_code_in_text_but_not_in_markup_or_scripts():
    html = ('<p class="status_tag" data-x="no_duplicate">检查no_duplicate未通过</p>'
            '<script>var late_fee_daily_rate = 1;</script><span title="credit_code_region">x</span>')
    assert internal_names(visible_text(html)) == ["no_duplicate", "credit_code_region"]
    assert internal_names("Contact a.b@example.cn or see 2026_11") == []
