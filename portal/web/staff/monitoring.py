"""Monitoring for supervisors (监控): the province and its prefectures by month, with charts, tables and CSV.

    GET  /staff/monitoring                            a month of every area, one area's months, pyramid, fund flows
    GET  /staff/monitoring/assessment                 the prefectures' scores, ranking and targeted supervision
    GET  /staff/monitoring/assessment/{area}/{year}.pdf   one prefecture's assessment report
    GET  /staff/monitoring/anomalies                  the anomaly flags; /{id} one with its evidence
    POST /staff/monitoring/anomalies/{id}/explain     a supervisor marks it explained with a note
    POST /staff/monitoring/anomalies/{id}/case        a supervisor opens a verification case for it in the queue
    GET  /staff/monitoring/budget                     next year's draft, this year's execution, the fund to 2050
    POST /staff/monitoring/budget/draft               the bureau drafts a new version of next year's budget
        (each later step of a version - the reviews, the approval - is a case in the central queue)
    POST /staff/monitoring/budget/receipts            a remittance or fiscal subsidy arrived in the provincial account
    GET  /staff/monitoring/csv/{table}                any of those tables as a spreadsheet (UTF-8 with BOM)

Filters (query): ``area`` (220000 the province, or a prefecture code) and ``month`` (YYYY-MM); anything else falls
back to the province and the latest month that is due. A supervisor posted to a prefecture sees only it. The
figures are those of the last ``portal monitoring refresh``; the pages say when they were computed.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.documents import assessment_report as assessment_report_pdf
from portal.errors import N_, Forbidden, Msg, NotFound, ValidationFailed
from portal.policy import anomalies as anomaly_rules
from portal.policy.dates import fmt_month, parse_month
from portal.policy.parameters import param
from portal.services import anomalies, assessment, budget, monitoring
from portal.web.access import STAFF
from portal.web.endpoint import Ctx, endpoint

SUPERVISORS = STAFF("supervisor")
# The section's pages, in the order of its navigation: (name, route, message id).
SECTIONS = [("monitoring", "staff_monitoring", N_("Monitoring")),
            ("assessment", "staff_monitoring_assessment", N_("Assessment")),
            ("anomalies", "staff_monitoring_anomalies", N_("Anomalies")),
            ("budget", "staff_monitoring_budget", N_("Fund budget"))]
LARGEST_VARIANCES = 3
RULE_LABELS = {
    "collection_rate_drop": N_("Collection rate falling sharply"),
    "back_payment_spike": N_("Spike of back payments"),
    "enrolment_near_retirement": N_("Many enrolments near retirement age"),
    "pension_after_death": N_("Pension paid after a death"),
    "shared_bank_account": N_("Several pensions into one bank card"),
    "base_drop": N_("Base far below the year before"),
}
FLAG_STATUSES = {"open": N_("Open"), "explained": N_("Explained"), "confirmed": N_("Confirmed"), "all": N_("All")}
INDICATOR_LABELS = {
    "collection_rate": N_("Collection rate"),
    "contribution_rate": N_("Contribution rate"),
    "enrolment_completion": N_("Enrolment plan completion"),
    "budget_completion": N_("Collection budget completion"),
    "remittance": N_("Remittance to the provincial account"),
    "subsidy_arrival": N_("Arrival of fiscal subsidies"),
    "on_time_share": N_("Requests decided on time"),
}
SERIES_MONTHS = 12
FLOW_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    area: str
    month: date | None
    months: list[date]

    def query(self, **changes) -> dict[str, str]:
        values = {"area": self.area, "month": fmt_month(self.month) if self.month else ""}
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def visible_areas(ctx: Ctx) -> tuple[str, ...]:
    """A supervisor posted to a prefecture sees that prefecture; provincial staff see the province and every one."""
    region = ctx.principal.region if ctx.principal else None
    return (region,) if region in monitoring.PREFECTURES else monitoring.AREAS


def filters(ctx: Ctx) -> Filters:
    months = monitoring.months_available(ctx.db)
    allowed = visible_areas(ctx)
    area = ctx.value("area")
    if area not in allowed:
        area = allowed[0]
    try:
        month = parse_month(ctx.value("month"))
    except ValueError:
        month = None
    if month not in months:
        due_by = monitoring.last_due_month(ctx.today)  # a month billed ahead shows rates that mean nothing yet
        past = [known for known in months if known <= due_by]
        month = past[-1] if past else (months[-1] if months else None)
    return Filters(area=area, month=month, months=months)


def percent(value: Decimal | None) -> str:
    """0.7391 → "73.9%"; no ratio → a dash with nothing to divide by."""
    if value is None:
        return "—"
    return i18n.gettext("%(number)s%%", number=i18n.format_number(value * 100, places=1))


def times(value: Decimal | None) -> str:
    """A dependency ratio: 1.4 contributors per pensioner."""
    if value is None:
        return "—"
    return i18n.format_number(value, places=2)


def month_axis(months: list[date]) -> list[tuple[str, str]]:
    """Short labels for a chart's months: the month's short name, and the year under the first and under January."""
    locale = i18n.babel_locale()
    return [(format_date(month, "MMM", locale=locale), str(month.year) if index == 0 or month.month == 1 else "")
            for index, month in enumerate(months)]


def _context(ctx: Ctx, chosen: Filters) -> dict:
    names = monitoring.area_names(ctx.locale)
    plan = param("enrolment_plan").at(chosen.month or ctx.today)
    return {"filters": chosen, "names": names, "areas": visible_areas(ctx), "percent": percent, "times": times,
            "computed_at": monitoring.computed_at(ctx.db), "has_benefits": monitoring.has_benefit_records(ctx.db),
            "plan_provisional": plan.provisional, "plan_source": plan.source, "sections": SECTIONS,
            "month_axis": month_axis}


@endpoint(SUPERVISORS)
def monitoring_page(ctx: Ctx):
    chosen = filters(ctx)
    context = _context(ctx, chosen)
    if chosen.month is None:
        return ctx.render("staff/monitoring/index.html", overview=[], series=[], pyramid=[], flows=[], **context)
    flows = monitoring.flows(ctx.db, area=chosen.area, until=chosen.month)[-FLOW_MONTHS:]
    return ctx.render(
        "staff/monitoring/index.html",
        overview=monitoring.overview(ctx.db, month=chosen.month, areas=visible_areas(ctx)),
        series=monitoring.series(ctx.db, area=chosen.area, until=chosen.month, months=SERIES_MONTHS),
        pyramid=monitoring.pyramid(ctx.db, area=chosen.area, month=chosen.month),
        flows=flows, **context)


# --- assessment ------------------------------------------------------------------------------------------------

def chosen_year(ctx: Ctx, years: list[int]) -> int:
    try:
        year = int(ctx.value("year"))
    except ValueError:
        year = 0
    if year in years:
        return year
    past = [known for known in years if known <= ctx.today.year]
    return past[-1] if past else (years[-1] if years else ctx.today.year)


def _assessment(ctx: Ctx, year: int) -> assessment.Assessment:
    """The year's assessment; a supervisor posted to a prefecture sees its own row (with its rank)."""
    result = assessment.assess(ctx.db, year=year, today=ctx.today)
    allowed = visible_areas(ctx)
    return dataclasses.replace(result, scores=[item for item in result.scores if item.area in allowed])


@endpoint(SUPERVISORS)
def assessment_page(ctx: Ctx):
    years = assessment.years_available(ctx.db)
    year = chosen_year(ctx, years)
    chosen = filters(ctx)
    result = _assessment(ctx, year) if years else None
    return ctx.render("staff/monitoring/assessment.html", result=result, years=years, year=year,
                      indicator_labels=INDICATOR_LABELS, **_context(ctx, chosen))


@endpoint(SUPERVISORS)
def assessment_report(ctx: Ctx):
    """One prefecture's assessment for a year as a printable PDF, with the same figures as the page."""
    area, year = ctx.path_params["area"], ctx.path_params["year"]
    years = assessment.years_available(ctx.db)
    if area not in visible_areas(ctx) or area not in monitoring.PREFECTURES or year not in years:
        raise NotFound(Msg(N_("There is no assessment for this prefecture and year.")))
    result = _assessment(ctx, year)
    score = next(item for item in result.scores if item.area == area)
    body = assessment_report_pdf.render(
        area_name=monitoring.area_names(ctx.locale)[area], area=area, year=year, through=result.through,
        score=score, labels=INDICATOR_LABELS, weights_source=result.weights.source,
        weights_provisional=result.weights.provisional, computed_at=monitoring.computed_at(ctx.db))
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="assessment-{area}-{year}.pdf"', "Cache-Control": "no-store"})


# --- anomalies --------------------------------------------------------------------------------------------------

def evidence_text(flag) -> str:
    """What the rule found, in a sentence in the visitor's language."""
    facts = anomalies.evidence_of(flag)
    if flag.rule == "collection_rate_drop":
        return i18n.gettext("The collection rate fell from %(before)s the month before to %(rate)s.",
                            before=percent(Decimal(facts["before"])), rate=percent(Decimal(facts["rate"])))
    if flag.rule == "back_payment_spike":
        return i18n.gettext("%(count)s months were recorded by back payment, against %(average)s a month on average "
                            "in the months before.", count=facts["count"],
                            average=i18n.format_number(Decimal(facts["average"]), places=2))
    if flag.rule == "enrolment_near_retirement":
        return i18n.gettext("%(employer)s (credit code %(code)s) enrolled %(count)s people close to retirement age "
                            "in the month.", employer=facts["employer"], code=flag.subject, count=facts["count"])
    if flag.rule == "pension_after_death":
        return i18n.gettext("The pensioner (identity number %(number)s) died on %(died)s; %(months)s month(s) were "
                            "paid after it, %(amount)s.", number=flag.subject, died=date.fromisoformat(facts["died"]),
                            months=facts["months"], amount=i18n.format_money(Decimal(facts["amount"])))
    if flag.rule == "shared_bank_account":
        return i18n.gettext("%(pensions)s pensions are paid into the bank card %(card)s.",
                            pensions=facts["pensions"], card=facts["card"])
    if flag.rule == "base_drop":
        return i18n.gettext("%(employer)s declared a base of %(after)s for the person with identity number "
                            "%(number)s, against %(before)s the year before.", employer=facts["employer"],
                            number=flag.subject, after=i18n.format_money(Decimal(facts["after"])),
                            before=i18n.format_money(Decimal(facts["before"])))
    return i18n.gettext("An anomaly")


def evidence_link(ctx: Ctx, flag) -> tuple[str, str] | None:
    """Where the records behind a flag are: (address, link text), or None."""
    month = fmt_month(flag.month)
    if flag.rule == "collection_rate_drop":
        return (f"{ctx.request.url_for('staff_monitoring').path}?area={flag.area}&month={month}",
                i18n.gettext("The prefecture's figures for the month"))
    if flag.rule == "back_payment_spike":
        return (f"{ctx.request.url_for('staff_queue').path}?kind=back_payment&prefecture={flag.area}&state=all",
                i18n.gettext("The prefecture's back-payment requests"))
    if flag.rule in ("pension_after_death", "shared_bank_account"):
        return (f"{ctx.request.url_for('staff_queue').path}?kind=survivor_claim&prefecture={flag.area}&state=all",
                i18n.gettext("The prefecture's survivor claims"))
    return None


def _flags_context(ctx: Ctx) -> dict:
    status = ctx.value("status") or "open"
    status = status if status in FLAG_STATUSES else "open"
    allowed = visible_areas(ctx)
    area = ctx.value("area")
    area = area if area in allowed else allowed[0]
    return {"flags": anomalies.flags(ctx.db, status=status, area=area), "flag_status": status, "area": area,
            "statuses": FLAG_STATUSES, "rule_labels": RULE_LABELS, "evidence_text": evidence_text,
            "thresholds": anomaly_rules.thresholds(ctx.today)}


@endpoint(SUPERVISORS)
def anomalies_page(ctx: Ctx):
    return ctx.render("staff/monitoring/anomalies.html", **_flags_context(ctx), **_context(ctx, filters(ctx)))


def _flag(ctx: Ctx):
    flag = anomalies.flag(ctx.db, flag_id=ctx.path_params["flag_id"])
    allowed = visible_areas(ctx)
    if flag is None or (monitoring.PROVINCE not in allowed and flag.area not in allowed):
        raise NotFound(Msg(N_("There is no such anomaly.")))
    return flag


def _flag_page(ctx: Ctx) -> dict:
    flag = _flag(ctx)
    return {"flag": flag, "evidence": evidence_text(flag), "link": evidence_link(ctx, flag),
            "case": anomalies.case_of(ctx.db, flag=flag), "rule_labels": RULE_LABELS, **_context(ctx, filters(ctx))}


@endpoint(SUPERVISORS)
def anomaly_page(ctx: Ctx):
    return ctx.render("staff/monitoring/anomaly.html", **_flag_page(ctx))


@endpoint(SUPERVISORS)
def anomaly_explain(ctx: Ctx):
    flag = _flag(ctx)
    try:
        anomalies.explain(ctx.db, flag_id=flag.id, note=ctx.value("note"), staff_id=ctx.principal.account_id,
                          now=ctx.now)
    except ValidationFailed as error:
        return ctx.fail("staff/monitoring/anomaly.html", error.errors, page=lambda: _flag_page(ctx))
    ctx.flash(N_("The anomaly is marked explained, with your note."))
    return ctx.redirect(ctx.request.url_for("staff_monitoring_anomaly", flag_id=flag.id).path)


@endpoint(SUPERVISORS)
def anomaly_case(ctx: Ctx):
    """A supervisor opens a verification case for the anomaly in the central queue (again: the same case)."""
    flag = _flag(ctx)
    try:
        case = anomalies.open_case(ctx.db, flag_id=flag.id, finding=evidence_text(flag), actor=ctx.actor,
                                   now=ctx.now)
    except ValidationFailed as error:
        return ctx.fail("staff/monitoring/anomaly.html", error.errors, page=lambda: _flag_page(ctx))
    ctx.flash(N_("Verification case %(reference)s is open in the queue for this anomaly."), reference=case.reference)
    return ctx.redirect(ctx.request.url_for("staff_monitoring_anomaly", flag_id=flag.id).path)


# --- budget -----------------------------------------------------------------------------------------------------

def largest_variances(months: list) -> list[tuple[str, object]]:
    """The months whose income or expenditure strayed most from the budget: (which, month), largest first."""
    candidates = [(abs(row.income_variance), "income", row) for row in months]
    candidates += [(abs(row.expenditure_variance), "expenditure", row) for row in months]
    return [(which, row) for size, which, row in sorted(candidates, key=lambda item: -item[0]) if size][
        :LARGEST_VARIANCES]


STEP_LABELS = {
    "draft": N_("Drafted by the provincial social insurance bureau"),
    "department_review": N_("Review by the provincial department of human resources and social security"),
    "finance_review": N_("Review by the provincial finance department"),
    "approval": N_("Approval"),
}
STATE_LABELS = {
    "drafted": N_("Drafted; waiting for the provincial department's review"),
    "department_reviewed": N_("Reviewed by the provincial department; waiting for the finance department's review"),
    "finance_reviewed": N_("Reviewed by the finance department; waiting for approval"),
    "approved": N_("Approved and frozen"),
    "returned": N_("Returned to the bureau"),
    "superseded": N_("Replaced by a later version"),
}
RECEIPT_LABELS = {"remittance": N_("Remittance of collections"), "subsidy": N_("Fiscal subsidy")}


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def provincial(ctx: Ctx) -> bool:
    """Only provincial supervisors draft, review and approve the budget and record money arriving."""
    return monitoring.PROVINCE in visible_areas(ctx)


def _budget_page(ctx: Ctx) -> dict:
    chosen = filters(ctx)
    this_year = ctx.today.year
    draft = budget.draft(ctx.db, area=chosen.area, year=this_year + 1, today=ctx.today)
    current, months = budget.execution(ctx.db, area=chosen.area, year=this_year, today=ctx.today)
    long_run = budget.long_horizon(ctx.db, today=ctx.today) if chosen.area == monitoring.PROVINCE else None
    versions = budget.versions(ctx.db, year=this_year + 1)
    people = budget.staff_names(ctx.db, ids={step.decided_by for version in versions for step in version.steps})
    return {"draft": draft, "current": current, "execution": months, "this_year": this_year,
            "largest": largest_variances(months), "long_run": long_run,
            "current_approved": budget.approved_lines(ctx.db, area=chosen.area, year=this_year) is not None,
            "versions": versions, "people": people, "step_labels": STEP_LABELS, "state_labels": STATE_LABELS,
            "provincial": provincial(ctx), "receipt_labels": RECEIPT_LABELS, "yuan": fen_to_yuan,
            "can_draft": budget.refusal_to_draft(ctx.db, year=this_year + 1) is None,
            "receipts": budget.receipts(ctx.db, area=chosen.area if chosen.area != monitoring.PROVINCE else ""),
            "gap_source": param("gap_sharing").at(date(this_year + 1, 12, 31)).source, **_context(ctx, chosen)}


@endpoint(SUPERVISORS)
def budget_page(ctx: Ctx):
    return ctx.render("staff/monitoring/budget.html", **_budget_page(ctx))


def _back_to_budget(ctx: Ctx, anchor: str):
    area = ctx.value("area")
    query = f"?area={area}" if area in visible_areas(ctx) else ""
    return ctx.redirect(ctx.request.url_for("staff_monitoring_budget").path + query + anchor)


@endpoint(SUPERVISORS)
def budget_draft(ctx: Ctx):
    if not provincial(ctx):
        raise Forbidden(Msg(N_("Only provincial supervisors draft the fund budget.")))
    try:
        drafted = budget.draft_version(ctx.db, year=ctx.today.year + 1, actor=ctx.actor, note=ctx.value("note"),
                                       now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("staff/monitoring/budget.html", error.errors, page=lambda: _budget_page(ctx))
    ctx.flash(N_("Version %(version)s of the budget is drafted and waits for the provincial department's review in "
                 "the queue."), version=drafted.version)
    return _back_to_budget(ctx, "#approval-title")


@endpoint(SUPERVISORS)
def budget_receipt(ctx: Ctx):
    if not provincial(ctx):
        raise Forbidden(Msg(N_("Only provincial supervisors record money arriving in the provincial account.")))
    try:
        month = parse_month(ctx.value("month"))
    except ValueError:
        month = None
    try:
        budget.record_receipt(ctx.db, area=ctx.value("receipt_area"), month=month, kind=ctx.value("kind"),
                              amount=ctx.value("amount"), note=ctx.value("receipt_note"), actor=ctx.actor,
                              now=ctx.now)
    except ValidationFailed as error:
        renamed = {{"area": "receipt_area", "note": "receipt_note"}.get(name, name): message
                   for name, message in error.errors.items()}
        return ctx.fail("staff/monitoring/budget.html", renamed, page=lambda: _budget_page(ctx))
    ctx.flash(N_("The money is recorded as arrived in the provincial special account."))
    return _back_to_budget(ctx, "#receipts-title")


# --- CSV ---------------------------------------------------------------------------------------------------------

def _amount(value: Decimal) -> str:
    return str(value)


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else str(value)


AREA_HEADINGS = (
    N_("Area"), N_("Month"), N_("Insured"), N_("Contributors"), N_("Pensioners"), N_("New pensioners this month"),
    N_("New pensioners this year"), N_("Contributors per pensioner"), N_("Average pension (yuan)"),
    N_("Contributions due (yuan)"),
    N_("Collected (yuan)"), N_("Collection rate"), N_("Contribution rate"), N_("Enrolments"),
    N_("Enrolment plan for the month"), N_("Plan completion"), N_("Arrears (yuan)"), N_("Requests overdue"),
    N_("Requests decided"), N_("Decided on time"), N_("Share decided on time"))


def _area_row(names: dict, row: monitoring.AreaMonth) -> list[str]:
    return [names.get(row.area, row.area), fmt_month(row.month), row.insured, row.contributors, row.pensioners,
            row.new_pensioners, row.new_pensioners_year, _ratio(row.dependency_ratio),
            "" if row.average_pension is None else str(row.average_pension), _amount(row.due),
            _amount(row.collected), _ratio(row.collection_rate), _ratio(row.contribution_rate), row.enrolments,
            "" if row.plan_monthly is None else str(row.plan_monthly), _ratio(row.plan_completion),
            _amount(row.arrears), row.cases_overdue, row.cases_decided, row.cases_on_time, _ratio(row.on_time_share)]


def _table(ctx: Ctx, table: str, chosen: Filters) -> tuple[tuple[str, ...], list[list]]:
    names = monitoring.area_names(ctx.locale)
    month = chosen.month
    if table == "areas":
        rows = monitoring.overview(ctx.db, month=month, areas=visible_areas(ctx)) if month else []
        return AREA_HEADINGS, [_area_row(names, row) for row in rows]
    if table == "months":
        rows = monitoring.series(ctx.db, area=chosen.area, until=month, months=SERIES_MONTHS) if month else []
        return AREA_HEADINGS, [_area_row(names, row) for row in rows]
    if table == "pyramid":
        rows = monitoring.pyramid(ctx.db, area=chosen.area, month=month) if month else []
        return (N_("Age"), N_("Men"), N_("Women")), [[row.label, row.men, row.women] for row in rows]
    if table == "flows":
        rows = monitoring.flows(ctx.db, area=chosen.area, until=month)
        return (N_("Month"), N_("Collections in (yuan)"), N_("Payments out (yuan)"), N_("Balance (yuan)")), [
            [fmt_month(row.month), _amount(row.collections_in), _amount(row.payments_out), _amount(row.balance)] for row in rows]
    if table == "budget":
        draft = budget.draft(ctx.db, area=chosen.area, year=ctx.today.year + 1, today=ctx.today)
        headings = (N_("Year"), N_("Income (yuan)"), N_("Fiscal subsidy (yuan)"), N_("Expenditure (yuan)"),
                    N_("Transfers in (yuan)"), N_("Transfers out (yuan)"), N_("Balance (yuan)"),
                    N_("Contributors a month"), N_("Pensioners a month"), N_("Basis"))
        rows = [[item.year, item.income, item.subsidy, item.expenditure, item.transfers_in, item.transfers_out,
                 item.balance, item.contributors, item.pensioners, i18n.gettext("On record")]
                for item in (draft.evidence if draft else ())]
        if draft:
            rows.append([draft.year, draft.income, draft.subsidy, draft.expenditure, draft.transfers_in,
                         draft.transfers_out, draft.balance, draft.contributors, draft.pensioners,
                         i18n.gettext("Projected")])
        return headings, [[str(value) for value in row] for row in rows]
    if table == "approval":
        versions = budget.versions(ctx.db, year=ctx.today.year + 1)
        steps = versions[0].steps if versions else []
        filed = versions[0].cases if versions else {}
        people = budget.staff_names(ctx.db, ids={step.decided_by for step in steps})
        return (N_("Step"), N_("Decided by"), N_("When"), N_("Decision"), N_("Note"), N_("Case")), [
            [i18n.gettext(STEP_LABELS[step.step]), people.get(step.decided_by, ""), i18n.format_datetime(step.decided_at),
             i18n.gettext("Agreed") if step.agreed else i18n.gettext("Returned"), step.note,
             filed[step.case_id].reference if step.case_id in filed else ""] for step in steps]
    if table == "receipts":
        found = budget.receipts(ctx.db, area=chosen.area if chosen.area != monitoring.PROVINCE else "", limit=10000)
        return (N_("Month"), N_("Area"), N_("What"), N_("Amount (yuan)"), N_("Note")), [
            [fmt_month(item.month), names.get(item.area, item.area), i18n.gettext(RECEIPT_LABELS[item.kind]),
             _amount(fen_to_yuan(item.amount_fen)), item.note] for item in found]
    if table == "projection":
        long_run = budget.long_horizon(ctx.db, today=ctx.today) if chosen.area == monitoring.PROVINCE else None
        headings = (N_("Year"), N_("Contributors"), N_("Pensioners"), N_("Income (yuan)"), N_("Expenditure (yuan)"),
                    N_("Gap (yuan)"), N_("Borne by the fund's surplus (yuan)"), N_("Borne by governments (yuan)"),
                    N_("Balance (yuan)"))
        return headings, [[str(value) for value in (row.year, row.contributors, row.pensioners, row.income,
                                                    row.expenditure, row.gap, row.from_surplus, row.from_governments,
                                                    row.balance)] for row in (long_run.years if long_run else ())]
    if table == "execution":
        _current, months = budget.execution(ctx.db, area=chosen.area, year=ctx.today.year, today=ctx.today)
        headings = (N_("Month"), N_("Budgeted income (yuan)"), N_("Income (yuan)"), N_("Income variance (yuan)"),
                    N_("Budgeted expenditure (yuan)"), N_("Expenditure (yuan)"), N_("Expenditure variance (yuan)"))
        return headings, [[fmt_month(row.month), str(row.budget_income), str(row.income), str(row.income_variance),
                           str(row.budget_expenditure), str(row.expenditure), str(row.expenditure_variance)]
                          for row in months]
    if table == "anomalies":
        rows = [[i18n.gettext(RULE_LABELS.get(flag.rule, N_("An anomaly"))), names.get(flag.area, flag.area),
                 fmt_month(flag.month), evidence_text(flag), i18n.gettext(FLAG_STATUSES[flag.status]), flag.note]
                for flag in anomalies.flags(ctx.db, status=_flags_context(ctx)["flag_status"], area=chosen.area)]
        return (N_("Anomaly"), N_("Area"), N_("Month"), N_("Evidence"), N_("Status"), N_("Note")), rows
    if table == "assessment":
        years = assessment.years_available(ctx.db)
        result = _assessment(ctx, chosen_year(ctx, years)) if years else None
        headings = (N_("Rank"), N_("Area"), N_("Year"), N_("Through"), N_("Score"),
                    *INDICATOR_LABELS.values(), N_("Worst indicator"), N_("Targeted supervision"))
        rows = []
        for item in result.scores if result else []:
            achieved = [_ratio(indicator.achieved) for indicator in item.indicators]
            rows.append(["" if item.rank is None else item.rank, names.get(item.area, item.area), result.year,
                         fmt_month(result.through), "" if item.score is None else str(item.score), *achieved,
                         i18n.gettext(INDICATOR_LABELS[item.worst]) if item.worst else "",
                         i18n.gettext("yes") if item.supervise else i18n.gettext("no")])
        return headings, rows
    raise NotFound(Msg(N_("There is no such table.")))


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula (=, +, -, @), which a name typed at
    registration could, is quoted; negative amounts stay numbers."""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_response(headings, rows, filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([i18n.gettext(heading) for heading in headings])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    # The byte-order mark makes Excel open UTF-8 as UTF-8.
    body = "\ufeff" + buffer.getvalue()
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@endpoint(SUPERVISORS)
def monitoring_csv(ctx: Ctx):
    chosen = filters(ctx)
    table = ctx.path_params["table"]
    headings, rows = _table(ctx, table, chosen)
    stamp = fmt_month(chosen.month) if chosen.month else "none"
    return csv_response(headings, rows, f"monitoring-{table}-{chosen.area}-{stamp}.csv")


routes = [
    Route("/staff/monitoring", monitoring_page, methods=["GET"], name="staff_monitoring"),
    Route("/staff/monitoring/assessment", assessment_page, methods=["GET"], name="staff_monitoring_assessment"),
    Route("/staff/monitoring/assessment/{area:str}/{year:int}.pdf", assessment_report, methods=["GET"],
          name="staff_monitoring_assessment_report"),
    Route("/staff/monitoring/anomalies", anomalies_page, methods=["GET"], name="staff_monitoring_anomalies"),
    Route("/staff/monitoring/budget", budget_page, methods=["GET"], name="staff_monitoring_budget"),
    Route("/staff/monitoring/budget/draft", budget_draft, methods=["POST"], name="staff_monitoring_budget_draft"),
    Route("/staff/monitoring/budget/receipts", budget_receipt, methods=["POST"],
          name="staff_monitoring_budget_receipt"),
    Route("/staff/monitoring/anomalies/{flag_id:id}", anomaly_page, methods=["GET"], name="staff_monitoring_anomaly"),
    Route("/staff/monitoring/anomalies/{flag_id:id}/case", anomaly_case, methods=["POST"],
          name="staff_monitoring_anomaly_case"),
    Route("/staff/monitoring/anomalies/{flag_id:id}/explain", anomaly_explain, methods=["POST"],
          name="staff_monitoring_anomaly_explain"),
    Route("/staff/monitoring/csv/{table:str}", monitoring_csv, methods=["GET"], name="staff_monitoring_csv"),
]
