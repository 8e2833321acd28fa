"""Every state-changing form is safe to submit twice: the second submission with the same key is answered as the
first (same page, same message) and does nothing again.

The walk takes the POST routes from the app's route table. Each known route has a first submission that does its
work (the database changes); the second, with the same key, must answer the same and change no row. A route
added without a scenario here is still submitted twice (with an empty form) and must not change anything the
second time; ``test_the_walk_knows_every_post_route`` names such routes so that a scenario is written for them.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from portal import clock
from portal.identifiers import make_credit_code, make_resident_id
from portal.models import (
    Case,
    ContributionMonth,
    IdempotencyKey,
    LifeCertification,
    PaymentOrder,
    Person,
    WebSession,
)
from portal.queue import service as queue
from portal.services import applications, billing, declarations, flexible, idempotency, person_requests
from portal.services.declarations import TEMPLATE_HEADER
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import Cast, another_browser, app_routes, fill_path, snapshot
from tests.queue.helpers import person_actor, staff_actor
from tests.records.support import NOW, TODAY, employer_actor, spell
from tests.records.support import flexible as flexible_enrolment
from tests.trust_support import COMMIT, COMMIT_FIELDS, face, notice_version, offer, person_commit_fields

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
# Forms whose repeat is harmless and must run again (portal.web.endpoint, ``repeatable``); nothing else may be.
REPEATABLE = {"/login", "/logout", "/display", "/register/check-id", "/auth/essc/qr/poll"}
# Machine callbacks sign their body and carry their own transaction number instead of a form key.
SIGNED = {"/payments/callback", "/interprovincial/messages"}
# Forms written while this walk was (identity proof, reading notices): submitted twice with an empty form only,
# until a first submission that does their work is written above.
WALKED_EMPTY = {"/password/forgotten", "/register/code", "/register/code/resend", "/me/prove", "/me/prove/send",
                "/me/notices", "/employer/notices", "/staff/counter/activation", "/staff/counter/card-check",
                "/auth/essc/mobile", "/auth/essc/qr/confirm"}
# Claims and certification signed with the card's face check: a password session is sent to confirm with the card
# (tests/benefits/test_pages.py signs them), so here both submissions change nothing.
FACE_SIGNED = {"/me/claims/retirement", "/me/claims/survivor", "/me/certification"}
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


class World:
    """The cast, and one signed-in browser per kind of account, reused across the walk."""

    def __init__(self, app, db):
        self.app, self.db = app, db
        self.cast = Cast(db)
        self.person = db.exec(select(Person).where(Person.id_number == self.cast.number)).one()
        self.actor = employer_actor(self.cast.admin)
        self._browsers: dict[str, object] = {}
        db.commit()  # on SQLite even a read holds the write lock until the transaction ends

    def browser(self, kind: str):
        """``person_face``: the person in a session that passed the card's face check (to sign a commitment)."""
        self.db.commit()
        if kind == "person_face" and kind not in self._browsers:
            account = self._account()
            before = set(self.db.exec(select(WebSession.id).where(WebSession.account_id == account.id)).all())
            self.db.commit()
            self._browsers[kind] = self.cast.browser(self.app, "person")
            self.db.exec(update(WebSession).where(WebSession.account_kind == "person",
                                                  WebSession.account_id == account.id,
                                                  WebSession.id.not_in(before)).values(assurance="face"))
            self.db.commit()
        if kind not in self._browsers:
            self._browsers[kind] = self.cast.browser(self.app, kind)
        return self._browsers[kind]

    def close(self):
        for browser in self._browsers.values():
            browser.close()

    def staff(self):
        return staff_actor(self.cast.staff)

    def person_case(self, months: str, *, returned: bool = False) -> Case:
        """A correction request of the cast's person, open; returned to them when asked."""
        filing = person_requests.online(self.db, actor=face(person_actor(self._account())))
        case = person_requests.submit_correction(self.db, filing=filing, what="missing", months=months,
                                                 details="缺少月份", offer=offer("employment_history"), token=f"c-{months}",
                                                 now=NOW, today=TODAY)
        return self._returned(case) if returned else case

    def employer_case(self, month: date, *, returned: bool = False) -> Case:
        self._bill(month)
        case = applications.submit_deferral(self.db, actor=self.actor, months=[f"{month:%Y-%m}"], reason="停产",
                                            **COMMIT, token=f"d-{month}", now=NOW, today=TODAY)
        return self._returned(case) if returned else case

    def _returned(self, case: Case) -> Case:
        handler = staff_actor(factories.staff(self.db, name="王经办", roles="handler"))
        case = queue.act(self.db, reference=case.reference, action="take", actor=handler, expected_version=None,
                         now=NOW)
        return queue.act(self.db, reference=case.reference, action="return_to_applicant", actor=handler,
                         expected_version=None, reason_code="missing_document", now=NOW)

    def _account(self):
        from portal.models import PersonAccount

        return self.db.exec(select(PersonAccount).where(PersonAccount.person_id == self.person.id)).one()

    def _bill(self, month: date):
        if not self.db.exec(select(func.count()).select_from(ContributionMonth).where(
                ContributionMonth.employer_id == self.cast.employer.id, ContributionMonth.month == month)).one():
            if not self._spells():
                spell(self.db, employer=self.cast.employer, start=date(2026, 1, 1))
            billing.run_billing(self.db, month=month, now=NOW)
            billing.mark_arrears(self.db, today=TODAY)

    def _spells(self):
        from portal.models import EmploymentSpell

        return self.db.exec(select(EmploymentSpell).where(EmploymentSpell.employer_id == self.cast.employer.id)).all()


def _new_id_number(sequence: int = 123) -> str:
    return make_resident_id("220102", date(1990, 1, 1), sequence)


# --- the first submission of each known form: (kind of browser, path, fields, files) -----------------------


def certificate(w: World):
    db = w.db
    spell(db, person=w.person, employer=w.cast.employer, start=date(2025, 1, 1))
    db.add(ContributionMonth(person_id=w.person.id, month=date(2025, 1, 1), base_fen=600000, source="employer_filing",
                             status="paid", employer_id=w.cast.employer.id, created_at=NOW))
    return "person", "/me/certificate", {}, None


def person_resubmit(w: World):
    case = w.person_case("2020-01", returned=True)
    return "person", f"/me/requests/{case.reference}/resubmit", {"note": "已补充材料", "version": str(case.version)}, None


def person_withdraw(w: World):
    case = w.person_case("2020-02")
    return "person", f"/me/requests/{case.reference}/withdraw", {"version": str(case.version)}, None


def correction(w: World):
    return "person_face", "/me/records/correction", {"what": "missing", "months": "2019-03", "details": "缺少月份",
                                                     **person_commit_fields("employment_history"),
                                                     "token": "walk-correction"}, None


def retirement_draft(w: World):
    from portal.services import enrolment

    month = enrolment.statutory_month(w.person)
    return "person", "/me/claims/retirement/draft", {"retirement_month": f"{month:%Y-%m}"}, None


def death_report(w: World):
    died = factories.person(w.db, name="王老伯", birth=date(1950, 2, 3))
    return "person_face", "/me/claims/survivor/death", {"id_number": died.id_number, "date_of_death": "2026-10-02",
                                                        "relationship": "parent",
                                                        **person_commit_fields("death_report", prefix="death_")}, None


def family_certification(w: World):
    from tests.benefits.support import awarded, retiree

    pensioner, actor = retiree(w.db, name="王老伯")
    awarded(w.db, actor, today=date(2026, 6, 15))
    return "person_face", "/me/certification/family", {"id_number": pensioner.id_number, "relationship": "parent",
                                                       "seen_on": "2026-11-27",
                                                       **person_commit_fields("family_certification"),
                                                       "token": "walk-family"}, None


def linked_certification(w: World):
    from portal.models import FamilyLink
    from tests.benefits.support import awarded, retiree

    pensioner, actor = retiree(w.db, name="王老伯")
    awarded(w.db, actor, today=date(2026, 6, 15))
    w.db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 6, 1)))
    link = FamilyLink(pensioner_id=pensioner.id, family_id=w.person.id, relationship="parent",
                      case_reference="JL20260101000001", linked_at=NOW)
    w.db.add(link)
    w.db.flush()
    return "person_face", f"/me/certification/family/{link.id}", {
        "seen_on": "2026-11-27", "notice_version": notice_version("family_certification")}, None


def counter_certification(w: World):
    from tests.benefits.support import awarded, retiree

    pensioner, actor = retiree(w.db, name="王老伯")
    awarded(w.db, actor, today=date(2026, 6, 15))
    w.db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 6, 1)))
    return "staff", "/staff/counter/benefits/certification", {"id_number": pensioner.id_number,
                                                             "channel": "counter"}, None


def counter_death(w: World):
    died = factories.person(w.db, name="王老伯", birth=date(1950, 2, 3))
    return "staff", "/staff/counter/benefits/death", {"death_id_number": died.id_number,
                                                      "date_of_death": "2026-10-02"}, None


def counter_death_withdrawn(w: World):
    from portal.services import survivors
    from tests.benefits.support import awarded, retiree

    alive, actor = retiree(w.db, name="王老伯")
    awarded(w.db, actor, today=date(2026, 6, 15))
    survivors.report_death(w.db, reporter=None, id_number=alive.id_number, date_of_death="2026-10-02",
                           relationship="", actor=w.staff(), now=NOW, today=TODAY,
                           staff_id=w.cast.staff.id)
    return "staff", "/staff/counter/benefits/death/withdraw", {"alive_id_number": alive.id_number,
                                                               "alive_reason": "本人持身份证到窗口"}, None


def counter_retirement(w: World):
    from tests.benefits.support import CARD, retiree

    person, _ = retiree(w.db, name="王老伯")
    return "staff", "/staff/counter/benefits/retirement", {
        "claim_id_number": person.id_number, "retirement_month": "2026-07", "claim_bank_code": "ICBC",
        "claim_card_number": CARD, "claim_signed": "yes", "token": "walk-counter-retirement"}, None


def counter_survivor(w: World):
    from portal.services import survivors
    from tests.benefits.support import CARD, awarded, retiree

    died, actor = retiree(w.db, name="王老伯")
    awarded(w.db, actor, today=date(2026, 6, 15))
    survivors.report_death(w.db, reporter=None, id_number=died.id_number, date_of_death="2026-10-02",
                           relationship="", actor=w.staff(), now=NOW, today=TODAY,
                           staff_id=w.cast.staff.id)
    return "staff", "/staff/counter/benefits/survivor", {
        "claimant_id_number": w.person.id_number, "deceased_id_number": died.id_number,
        "survivor_relationship": "child", "survivor_bank_code": "BOC", "survivor_card_number": CARD,
        "survivor_signed": "yes", "token": "walk-counter-survivor"}, None


def transfer_apply(w: World):
    return "person", "/me/transfers/apply", {"other_province": "110000", "hukou_province": "220000", "exemption": "",
                                             "start_1": "2008-03", "end_1": "2015-06", "token": "walk-transfer"}, None


def exception(w: World):
    spell(w.db, person=w.person, employer=w.cast.employer, start=date(2024, 1, 1))
    return "person_face", "/me/flexible/exception", {"start_month": "2026-11", "base_percent": "100",
                                                     "details": "已离职，单位未减员",
                                                     **person_commit_fields("flexible_no_employer"),
                                                     "token": "walk-exception"}, None


def enrol(w: World):
    return "person", "/me/flexible/enrol", {"start_month": "2026-11", "base_percent": "100"}, None


def base(w: World):
    flexible_enrolment(w.db, person=w.person, start=date(2026, 7, 1))
    return "person", "/me/flexible/base", {"contribution_year": "2027", "base_percent": "80"}, None


def flexible_pay(w: World):
    flexible_enrolment(w.db, person=w.person, start=date(2026, 7, 1), percents={2026: 100})
    view = flexible.overview(w.db, actor=person_actor(w._account()), today=TODAY)
    return "person", "/me/flexible/pay", {"period": "month", "month": f"{view.payable_months[0]:%Y-%m}"}, None


def register_person(w: World):
    return "anonymous", "/register", {"id_number": _new_id_number(), "name": "新用户", "mobile": "13912345678",
                                      "password": factories.PASSWORD, "password_confirm": factories.PASSWORD}, None


def register_employer(w: World):
    return "anonymous", "/register/employer", {
        "credit_code": make_credit_code("220102", "MA9999999"),
        "employer_name": "吉林新单位有限公司", "region": "220100", "username": "boss", "operator_name": "钱老板",
        "mobile": "13912345679", "password": factories.PASSWORD, "password_confirm": factories.PASSWORD}, None


def counter_correction(w: World):
    return "staff", "/staff/counter/correction", {"id_number": w.cast.number, "what": "wrong_base",
                                                  "months": "2018-05", "details": "基数有误", "commitment": "yes",
                                                  "token": "walk-counter-correction"}, None


def counter_exception(w: World):
    spell(w.db, person=w.person, employer=w.cast.employer, start=date(2024, 1, 1))
    return "staff", "/staff/counter/exception", {"id_number": w.cast.number, "start_month": "2026-11",
                                                 "base_percent": "100", "details": "单位未减员", "commitment": "yes",
                                                 "token": "walk-counter-exception"}, None


def take(w: World):
    w.person_case("2020-03")
    return "staff", "/staff/queue/take", {}, None


def case_action(w: World):
    case = w.person_case("2020-04")
    return "staff", f"/staff/cases/{case.reference}/action", {"action": "take", "version": str(case.version)}, None


def add_employee(w: World):
    return "employer", "/employer/employees", {"id_number": _new_id_number(sequence=456), "name": "新员工",
                                               "start_month": "2026-11", "wage": "6000"}, None


def end_spell(w: World):
    row = spell(w.db, employer=w.cast.employer, start=date(2026, 11, 1))
    return "employer", f"/employer/employees/{row.id}/end", {"end_month": "2026-11", "reason": "resigned"}, None


def employer_resubmit(w: World):
    case = w.employer_case(OCTOBER, returned=True)
    return "employer", f"/employer/requests/{case.reference}/resubmit", {"note": "已补充",
                                                                        "version": str(case.version)}, None


def employer_withdraw(w: World):
    case = w.employer_case(OCTOBER)
    return "employer", f"/employer/requests/{case.reference}/withdraw", {"version": str(case.version)}, None


def deferral(w: World):
    w._bill(OCTOBER)
    return "employer", "/employer/applications/deferral", {"months": "2026-10", "reason": "停产",
                                                           **COMMIT_FIELDS, "token": "walk-deferral"}, None


def back_payment(w: World):
    row = spell(w.db, employer=w.cast.employer, start=date(2026, 1, 1))
    return "employer", "/employer/applications/back-payment", {"spell_id": str(row.id), "first_month": "2026-03",
                                                               "last_month": "2026-03", "token": "walk-bp"}, None


def add_operator(w: World):
    return "employer", "/employer/operators", {"username": "clerk2", "name": "钱会计", "mobile": "13912345670",
                                               "password": factories.PASSWORD,
                                               "password_confirm": factories.PASSWORD}, None


def operator_active(w: World):
    return "employer", f"/employer/operators/{w.cast.clerk.id}/active", {"active": "0"}, None


def declaration_form(w: World):
    person = factories.person(w.db, name="申报人", id_number=_new_id_number(sequence=789))
    spell(w.db, person=person, employer=w.cast.employer, start=date(2026, 1, 1))
    year = declarations.year_choices(TODAY)[0]
    return "employer", "/employer/declarations/form", {"year": str(year), f"wage_{person.id}": "6500"}, None


def declaration_upload(w: World):
    person = factories.person(w.db, name="上传人", id_number=_new_id_number(sequence=790))
    spell(w.db, person=person, employer=w.cast.employer, start=date(2026, 1, 1))
    year = declarations.year_choices(TODAY)[0]
    text = ",".join(TEMPLATE_HEADER) + "\r\n" + f"{person.id_number},{person.name},6500\r\n"
    files = {"file": ("declaration.csv", io.BytesIO(text.encode("utf-8-sig")), "text/csv")}
    return "employer", "/employer/declarations/upload", {"year": str(year)}, files


def declaration_confirm(w: World):
    person = factories.person(w.db, name="确认人", id_number=_new_id_number(sequence=791))
    spell(w.db, person=person, employer=w.cast.employer, start=date(2026, 1, 1))
    year = declarations.year_choices(TODAY)[0]
    draft = declarations.prepare(w.db, actor=w.actor, year=year, source="form", now=NOW, today=TODAY,
                                 rows=[declarations.InputRow(2, person.id_number, person.name, "6500")])
    return "employer", f"/employer/declarations/preview/{draft.token}", {}, None


def bills_pay(w: World):
    w._bill(OCTOBER)
    bill = billing.bills_for(w.db, actor=w.actor)[0]
    return "employer", "/employer/bills/pay", {"bill": str(bill.id), "pay_on": TODAY.isoformat()}, None


def explain_anomaly(w: World):
    from portal.models import MonitoringFlag

    flag = MonitoringFlag(rule="collection_rate_drop", area="220100", month=OCTOBER, subject="",
                          evidence='{"before": "1.0000", "rate": "0.5000"}', found_at=NOW)
    w.db.add(flag)
    w.db.flush()
    return "staff", f"/staff/monitoring/anomalies/{flag.id}/explain", {"note": "十月缓缴，已核实"}, None


def draft_budget(w: World):
    from portal.models import MonitoringMonth

    for month in range(1, 13):  # one complete year on record to draft from
        w.db.add(MonitoringMonth(month=date(2025, month, 1), area="220000", collected_fen=100000,
                                 payments_out_fen=90000, computed_at=NOW))
    w.db.flush()
    return "staff", "/staff/monitoring/budget/draft", {"note": "初稿"}, None


def anomaly_case(w: World):
    from portal.models import MonitoringFlag

    flag = MonitoringFlag(rule="collection_rate_drop", area="220100", month=OCTOBER, subject="",
                          evidence='{"before": "1.0000", "rate": "0.5000"}', found_at=NOW)
    w.db.add(flag)
    w.db.flush()
    return "staff", f"/staff/monitoring/anomalies/{flag.id}/case", {}, None


def budget_receipt(w: World):
    return "staff", "/staff/monitoring/budget/receipts", {"receipt_area": "220100", "month": "2026-03",
                                                          "kind": "subsidy", "amount": "1000.00"}, None


def employer_objection(w: World):
    return "employer", "/employer/credit/objection", {"statement": "评级有误", "token": "walk-objection-e"}, None


def person_objection(w: World):
    return "person", "/me/credit/objection", {"statement": "评级有误", "token": "walk-objection-p"}, None


def propose_listing(w: World):
    return "staff", "/staff/trust/listings", {"identifier": w.cast.employer.credit_code, "trigger": "records_misused",
                                              "finding": "泄露个人权益记录", "token": "walk-listing"}, None


def record_finding(w: World):
    return "staff", "/staff/trust/findings", {"finding_identifier": w.cast.employer.credit_code,
                                              "kind": "fraud_finding", "occurred_on": "2026-11-20",
                                              "note": "虚报缴费基数，见稽核报告"}, None


def remove_listing(w: World):
    from portal.models import DishonestyListing

    listing = DishonestyListing(subject_kind="employer", subject_id=w.cast.employer.id, trigger="records_misused",
                                state="listed", proposed_at=NOW, proposed_by=w.cast.staff.id,
                                statement_until=TODAY, effective_on=TODAY, ends_on=date(2029, 11, 28))
    w.db.add(listing)
    w.db.flush()
    return "staff", f"/staff/trust/listings/{listing.id}/remove", {"reason": "repaired"}, None


def spot_check(w: World):
    case = w.employer_case(NOVEMBER)
    case.outcome = "approved"
    w.db.add(case)
    return "staff", f"/staff/cases/{case.reference}/spot-check", {}, None


SCENARIOS = {
    "/employer/credit/objection": employer_objection,
    "/me/credit/objection": person_objection,
    "/staff/trust/listings": propose_listing,
    "/staff/trust/findings": record_finding,
    "/staff/trust/listings/{listing_id:id}/remove": remove_listing,
    "/staff/cases/{reference:str}/spot-check": spot_check,
    "/me/certificate": certificate,
    "/me/requests/{reference:str}/resubmit": person_resubmit,
    "/me/requests/{reference:str}/withdraw": person_withdraw,
    "/me/records/correction": correction,
    "/me/transfers/apply": transfer_apply,
    "/me/claims/retirement/draft": retirement_draft,
    "/me/claims/survivor/death": death_report,
    "/me/certification/family": family_certification,
    "/me/certification/family/{link_id:id}": linked_certification,
    "/staff/counter/benefits/death/withdraw": counter_death_withdrawn,
    "/staff/counter/benefits/retirement": counter_retirement,
    "/staff/counter/benefits/survivor": counter_survivor,
    "/staff/counter/benefits/certification": counter_certification,
    "/staff/counter/benefits/death": counter_death,
    "/me/flexible/exception": exception,
    "/me/flexible/enrol": enrol,
    "/me/flexible/base": base,
    "/me/flexible/pay": flexible_pay,
    "/register": register_person,
    "/register/employer": register_employer,
    "/staff/counter/correction": counter_correction,
    "/staff/counter/exception": counter_exception,
    "/staff/queue/take": take,
    "/staff/cases/{reference:str}/action": case_action,
    "/staff/monitoring/anomalies/{flag_id:id}/explain": explain_anomaly,
    "/staff/monitoring/budget/draft": draft_budget,
    "/staff/monitoring/anomalies/{flag_id:id}/case": anomaly_case,
    "/staff/monitoring/budget/receipts": budget_receipt,
    "/employer/employees": add_employee,
    "/employer/employees/{spell_id:id}/end": end_spell,
    "/employer/requests/{reference:str}/resubmit": employer_resubmit,
    "/employer/requests/{reference:str}/withdraw": employer_withdraw,
    "/employer/applications/deferral": deferral,
    "/employer/applications/back-payment": back_payment,
    "/employer/operators": add_operator,
    "/employer/operators/{operator_id:id}/active": operator_active,
    "/employer/declarations/form": declaration_form,
    "/employer/declarations/upload": declaration_upload,
    "/employer/declarations/preview/{token:str}": declaration_confirm,
    "/employer/bills/pay": bills_pay,
}


def _same_route(template: str) -> str:
    """A route template without its converters, so {spell_id:int} and {spell_id:id} name the same route."""
    return re.sub(r"{([a-z_]+)(?::[a-z]+)?}", r"{\1}", template)


SCENARIOS_BY_ROUTE = {_same_route(path): scenario for path, scenario in SCENARIOS.items()}


def count(db, model) -> int:
    """Rows of a table as committed; the read is ended so the app can write."""
    found = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return found


def post_routes(app) -> list[tuple[str, object]]:
    return [(path, endpoint) for path, methods, endpoint in app_routes(app) if "POST" in methods]


def _answer(response) -> tuple:
    return response.status_code, response.headers.get("location") or response.headers.get("hx-redirect")


def _flash(response) -> str | None:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith("portal_flash=")]
    return found[0].split(";")[0] if found else None


def _submit_twice(world: World, template: str, engine):
    scenario = SCENARIOS_BY_ROUTE.get(_same_route(template))
    if scenario is not None:
        kind, path, fields, files = scenario(world)
        world.db.commit()
    else:
        kind = {"/me": "person", "/employer": "employer", "/staff": "staff"}.get(
            next((p for p in ("/me", "/employer", "/staff") if template.startswith(p)), ""), "anonymous")
        path, fields, files = fill_path(template, world.cast.path_values), {}, None
    browser = world.browser(kind)
    token = csrf_token(browser.get("/accessibility").text) if kind != "anonymous" else \
        csrf_token(browser.get("/login").text)
    data = {**fields, "csrf_token": token, idempotency.FIELD: idempotency.new_key()}
    before = snapshot(engine)
    first = browser.post(path, data=data, files=_rewound(files))
    done = snapshot(engine)
    second = browser.post(path, data=data, files=_rewound(files))
    again = snapshot(engine)
    return scenario is not None, path, before, first, done, second, again


def _rewound(files):
    if not files:
        return None
    for _name, (_filename, handle, _type) in files.items():
        handle.seek(0)
    return files


def test_every_post_route_submitted_twice_with_the_same_key_does_its_work_once(app, db, engine, frozen_clock):
    routes = [(path, endpoint) for path, endpoint in post_routes(app)
              if path not in REPEATABLE | SIGNED]
    assert len(routes) >= len(SCENARIOS)
    checked = []
    for template, _endpoint in routes:
        world = World(app, db)
        try:
            known, path, before, first, done, second, again = _submit_twice(world, template, engine)
        finally:
            world.close()
        if known:
            assert first.status_code in (302, 303), (path, first.status_code, first.text[:2000])
            assert done != before, f"the first submission to {path} did nothing"
        assert again == done, f"the second submission to {path} changed the database"
        if first.status_code in (302, 303):
            assert _answer(second) == _answer(first), path
            assert _flash(second) == _flash(first), path
        checked.append(path)
        db.rollback()
        from tests.conftest import _empty_all_tables

        _empty_all_tables(engine)
        db.expunge_all()  # the next route's rows may reuse the ids of this one's
        frozen_clock(NOW)
    assert len(checked) == len(routes)


def test_the_walk_knows_every_post_route(app):
    """A new form needs a first submission above, so the walk checks that it does its work once."""
    unknown = {path for path, _endpoint in post_routes(app)
               if _same_route(path) not in SCENARIOS_BY_ROUTE and path not in REPEATABLE | SIGNED}
    assert unknown <= WALKED_EMPTY | FACE_SIGNED, unknown - WALKED_EMPTY - FACE_SIGNED


def test_only_the_forms_whose_repeat_is_harmless_are_declared_repeatable(app):
    declared = {path for path, endpoint in post_routes(app) if getattr(endpoint, "__repeatable__", False)}
    assert declared == REPEATABLE
    unsigned = {path for path, endpoint in post_routes(app) if not getattr(endpoint, "__csrf_protected__", True)}
    assert unsigned == SIGNED


def test_every_form_that_posts_carries_a_key_new_at_each_showing(app, db, frozen_clock):
    world = World(app, db)
    try:
        browser = world.browser("employer")
        world._bill(OCTOBER)
        db.commit()
        pages = [browser.get("/employer/bills").text for _ in range(2)]
        keys = [KEY.findall(page) for page in pages]
        assert keys[0] and keys[1] and not set(keys[0]) & set(keys[1])
    finally:
        world.close()


def test_an_htmx_submission_sent_twice_is_sent_to_the_same_place_once(app, db, frozen_clock):
    world = World(app, db)
    try:
        _kind, path, fields, _files = bills_pay(world)
        db.commit()
        browser = world.browser("employer")
        data = {**fields, "csrf_token": csrf_token(browser.get("/employer/bills").text),
                idempotency.FIELD: idempotency.new_key()}
        answers = [browser.post(path, data=data, headers={"HX-Request": "true"}) for _ in range(2)]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].headers["hx-redirect"] == answers[1].headers["hx-redirect"]
        assert answers[0].headers["hx-redirect"].startswith("/employer/bills/orders/")
        assert count(db, PaymentOrder) == 1
    finally:
        world.close()


def test_two_submissions_of_one_form_at_the_same_moment_do_the_work_once(app, db, frozen_clock):
    """Two requests with the same key at once (a double click reaching two workers): one does the work, the other
    waits for it on the key's unique constraint and answers the same."""
    world = World(app, db)
    try:
        _kind, path, fields, _files = bills_pay(world)
        db.commit()
        first = world.browser("employer")
        data = {**fields, "csrf_token": csrf_token(first.get("/employer/bills").text),
                idempotency.FIELD: idempotency.new_key()}
        second = another_browser(app)
        second.cookies.update(first.cookies)
        start = threading.Barrier(2)
        answers: list = [None, None]

        def send(index: int, browser) -> None:
            start.wait()
            answers[index] = browser.post(path, data=data)

        threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        second.close()
        assert [a.status_code for a in answers] == [303, 303]
        assert answers[0].headers["location"] == answers[1].headers["location"]
        assert count(db, PaymentOrder) == 1
    finally:
        world.close()


def test_a_key_is_the_accounts_own_and_is_forgotten_after_a_day(app, db, frozen_clock):
    world = World(app, db)
    try:
        _kind, path, fields, _files = deferral(world)
        db.commit()
        browser = world.browser("employer")
        key = idempotency.new_key()
        data = {**fields, "csrf_token": csrf_token(browser.get("/employer/bills").text), idempotency.FIELD: key}
        assert browser.post(path, data=data).status_code == 303
        stored = db.exec(select(IdempotencyKey)).one()
        assert stored.scope == f"employer:{world.cast.admin.id}" and stored.location.startswith("/employer/requests/")
        assert stored.expires_at == NOW + idempotency.LIFETIME
        db.commit()

        # The clerk of the same employer sending the same key is not answered with the admin's result.
        with world.cast.browser(app, "clerk") as clerk:
            other = {**data, "csrf_token": csrf_token(clerk.get("/employer/bills").text), "token": "clerk-form"}
            answer = clerk.post(path + "?lang=en", data=other)
            assert answer.status_code == 422 and "is still open" in answer.text  # refused by the service, not replayed

        frozen_clock(NOW + idempotency.LIFETIME + timedelta(minutes=1))
        assert idempotency.purge_expired(db, now=clock.now()) == 1
        db.commit()
        assert count(db, IdempotencyKey) == 0
    finally:
        world.close()


def test_a_key_sent_to_another_form_is_refused(app, db, frozen_clock):
    world = World(app, db)
    try:
        _kind, path, fields, _files = bills_pay(world)
        db.commit()
        browser = world.browser("employer")
        token = csrf_token(browser.get("/employer/bills").text)
        key = idempotency.new_key()
        assert browser.post(path, data={**fields, "csrf_token": token, idempotency.FIELD: key}).status_code == 303
        reused = browser.post("/employer/operators", data={"csrf_token": token, idempotency.FIELD: key,
                                                           "username": "x"}, headers={"Accept-Language": "en"})
        assert reused.status_code == 409 and "This form was already sent" in reused.text
    finally:
        world.close()


@pytest.mark.parametrize("kind", ["person", "employer"])
def test_a_form_shown_again_with_errors_can_be_corrected_and_sent(app, db, frozen_clock, kind):
    """A refusal does nothing and keeps no answer: the same page, corrected, is then done."""
    world = World(app, db)
    try:
        scenario = correction if kind == "person" else deferral
        browser_kind, path, fields, _files = scenario(world)
        db.commit()
        browser = world.browser(browser_kind)
        data = {**fields, "csrf_token": csrf_token(browser.get("/accessibility").text),
                idempotency.FIELD: idempotency.new_key()}
        assert browser.post(path, data={**data, "commitment": "", "mode": ""}).status_code == 422
        assert count(db, IdempotencyKey) == 0
        assert browser.post(path, data=data).status_code == 303
        assert count(db, Case) == 1
    finally:
        world.close()


def test_the_cron_command_forgets_the_answers_older_than_a_day(db, monkeypatch, database_url, capsys, frozen_clock):
    from portal import cli

    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    for scope, key, at in (("employer:1", "old-key-0123456789", NOW - idempotency.LIFETIME - timedelta(hours=1)),
                           ("employer:2", "new-key-0123456789", NOW)):
        assert idempotency.claim(db, scope=scope, key=key, method="POST", path="/employer/bills/pay", now=at) is None
    db.commit()
    assert cli.main(["db", "purge-keys"]) == 0
    assert "forgot 1 expired form key(s)" in capsys.readouterr().out
    assert [row.key for row in db.exec(select(IdempotencyKey)).all()] == ["new-key-0123456789"]
    db.commit()
