"""The public pension estimator: a GET form (results are linkable), checked at the edge, answered by the policy engine.

    GET /estimate                      the form (prefilled for a signed-in person)
    GET /estimate?birth_date=...&...   the form with the results under it; an htmx request gets the fragment only

The figures come from ``portal.policy.estimate.estimate`` only; this module checks the input, maps the engine's
``PolicyInputError`` to a form field, and prepares what the template shows (no money is computed here).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Msg, ValidationFailed
from portal.policy.errors import PolicyInputError
from portal.policy.estimate import Estimate, estimate
from portal.policy.money import round_fen
from portal.policy.regions import PROVINCE, prefecture_of_id_number, region_codes
from portal.policy.rules.retirement import CATEGORIES, retirement
from portal.services import accounts
from portal.services.records import build_record
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import whole_number
from portal.web.public.policy import parameter_labels, provisional_reasons

FIELDS = ("birth_date", "category", "region", "months_paid", "months_expected", "deemed_months", "average_index",
          "account_balance", "chosen_month")
MAX_MONTHS = 720  # sixty years of contributions
MAX_DEEMED = 600
# No floor: an index computed from a history can be below 0.60 (real Jilin statements show 0.46); bases are capped
# at 300% of the average wage, so an index cannot exceed 3.00.
MAX_INDEX = Decimal(3)
MAX_BALANCE = Decimal(100_000_000)
EARLIEST_BIRTH = date(1930, 1, 1)
# ASCII digits only: ``\d`` alone also matches other scripts' digits.
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$", re.ASCII)
_INDEX = re.compile(r"^\d{1,2}(\.\d{1,4})?$", re.ASCII)
_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$", re.ASCII)

# The engine names the input a date or figure came from; the form shows the problem at the field the visitor typed.
_ENGINE_FIELDS = {
    "birth_date": "birth_date",
    "category": "category",
    "region": "region",
    "months_paid": "months_paid",
    "months_expected": "months_expected",
    "deemed_months": "deemed_months",
    "actual_months": "months_paid",
    "average_index": "average_index",
    "account_balance": "account_balance",
    "chosen_month": "chosen_month",
    "retirement_month": "birth_date",
    "age_at_retirement": "birth_date",
    "today": "birth_date",
}
_ENGINE_MESSAGES = {
    "birth_date": N_("The estimator cannot work out a retirement date and pension for this date of birth. Check "
                     "the date, or ask your social insurance office."),
    "category": N_("Choose who you are for retirement purposes."),
    "region": N_("Choose the prefecture where you are insured."),
    "months_paid": N_("Enter the months you have paid as a whole number, 0 or more."),
    "months_expected": N_("Enter the further months as a whole number, 0 or more."),
    "deemed_months": N_("Enter the deemed months as a whole number, 0 or more."),
    "average_index": N_("Enter an average contribution index of 3.00 or less: contribution bases are capped at three "
                        "times the average wage."),
    "account_balance": N_("Enter the personal account balance in yuan, 0 or more."),
    "chosen_month": N_("Choose a retirement month within your window, from %(earliest)s to %(latest)s."),
}


def prefectures(on: date, locale: str) -> list[tuple[str, str]]:
    """The nine prefectures (code, name in the visitor's language), from the parameter file."""
    return [(code, name) for code, name in region_names(on, locale).items() if code != PROVINCE]


def region_names(on: date, locale: str) -> dict[str, str]:
    """Every code in the parameter file (the province too) with its name in the visitor's language."""
    language = "en" if locale == "en" else "zh"
    return {code: names[language] for code, names in region_codes(on).items()}


def category_options() -> list[tuple[str, str]]:
    _ = i18n.gettext
    return [
        ("male", _("Man")),
        ("female_worker", _("Woman in a worker post (original retirement age 50)")),
        ("female_cadre", _("Woman in a managerial or technical post (original retirement age 55)")),
    ]


def prefill_for(ctx: Ctx) -> dict[str, str]:
    """Starting values for the form. A signed-in person gets their date of birth, category and prefecture, and
    from their contribution record the months paid, deemed months, average index and account balance to date.
    """
    principal = ctx.principal
    if principal is None or principal.kind != "person" or principal.person_id is None:
        return {}
    person = accounts.person_record(ctx.db, person_id=principal.person_id)
    if person is None:
        return {}
    values = {
        "birth_date": person.birth_date.isoformat(),
        # Women choose between the worker and cadre ages; the worker age is the more common starting point.
        "category": "male" if person.sex == "male" else "female_worker",
    }
    region = prefecture_of_id_number(person.id_number)
    if region in dict(prefectures(ctx.today, ctx.locale)):
        values["region"] = region
    record = build_record(ctx.db, person=person, today=ctx.today)
    if record.cells:
        deemed = record.months_by_state.get("deemed", 0)
        values["months_paid"] = str(record.cumulative_months - deemed)
        values["deemed_months"] = str(deemed)
        values["account_balance"] = str(record.balance_to_date)
        if record.average_index is not None:
            values["average_index"] = str(record.average_index)
    return values


def _birth_date(text: str, today: date, errors: dict) -> date | None:
    if not text:
        errors["birth_date"] = Msg(N_("Enter your date of birth."))
        return None
    found = _DATE.match(text)
    try:
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3))) if found else None
    except ValueError:
        day = None
    if day is None:
        errors["birth_date"] = Msg(N_("Enter your date of birth as year-month-day, for example 1975-03-15."))
        return None
    if day >= today:
        errors["birth_date"] = Msg(N_("The date of birth must be in the past."))
        return None
    if day < EARLIEST_BIRTH:
        errors["birth_date"] = Msg(N_("The date of birth must be on or after %(date)s."),
                                   {"date": EARLIEST_BIRTH.isoformat()})
        return None
    return day


def _months(name: str, text: str, errors: dict, *, required: bool, maximum: int) -> int | None:
    if not text:
        if required:
            errors[name] = Msg({
                "months_paid": N_("Enter the months you have paid so far (0 if none)."),
                "months_expected": N_("Enter the further months you expect to pay (0 if none)."),
            }[name])
            return None
        return 0
    value = whole_number(text, low=0, high=9999)
    if value is None:
        errors[name] = Msg(_ENGINE_MESSAGES[name])
        return None
    if value > maximum:
        errors[name] = Msg(N_("Enter %(maximum)s months or fewer."), {"maximum": maximum})
        return None
    return value


def _index(text: str, errors: dict) -> Decimal | None:
    if not text:
        errors["average_index"] = Msg(N_("Enter your average contribution index, for example 1.00."))
        return None
    if not _INDEX.match(text):
        errors["average_index"] = Msg(N_("Enter the index as a number such as 1.00 or 0.60."))
        return None
    value = Decimal(text)
    if value > MAX_INDEX:
        errors["average_index"] = Msg(_ENGINE_MESSAGES["average_index"])
        return None
    return value


def _balance(text: str, errors: dict) -> Decimal | None:
    cleaned = text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
    if not cleaned:
        errors["account_balance"] = Msg(N_("Enter your personal account balance in yuan (0 if you do not know)."))
        return None
    if not _MONEY.match(cleaned):
        errors["account_balance"] = Msg(N_("Enter the balance in yuan with at most two decimals, such as 85000.00."))
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        errors["account_balance"] = Msg(_ENGINE_MESSAGES["account_balance"])
        return None
    if value > MAX_BALANCE:
        errors["account_balance"] = Msg(N_("The balance looks too large. Check the figure in yuan."))
        return None
    return value


def _chosen_month(text: str, errors: dict) -> date | None:
    if not text:
        return None
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        errors["chosen_month"] = Msg(N_("Enter the month as year-month, for example 2031-05, or leave it empty."))
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def parse(values: dict[str, str], today: date, locale: str) -> dict:
    """Checks the submitted values; returns the engine's arguments or raises ValidationFailed (field → Msg)."""
    errors: dict[str, Msg] = {}
    birth = _birth_date(values.get("birth_date", ""), today, errors)
    category = values.get("category", "")
    if category not in CATEGORIES:
        errors["category"] = Msg(_ENGINE_MESSAGES["category"])
    region = values.get("region", "")
    if region not in dict(prefectures(today, locale)):
        errors["region"] = Msg(_ENGINE_MESSAGES["region"])
    paid = _months("months_paid", values.get("months_paid", ""), errors, required=True, maximum=MAX_MONTHS)
    expected = _months("months_expected", values.get("months_expected", ""), errors, required=True,
                       maximum=MAX_MONTHS)
    deemed = _months("deemed_months", values.get("deemed_months", ""), errors, required=False, maximum=MAX_DEEMED)
    index = _index(values.get("average_index", ""), errors)
    balance = _balance(values.get("account_balance", ""), errors)
    chosen = _chosen_month(values.get("chosen_month", ""), errors)
    if errors:
        raise ValidationFailed({name: errors[name] for name in FIELDS if name in errors})
    return {"birth_date": birth, "category": category, "region": region, "months_paid": paid,
            "months_expected": expected, "deemed_months": deemed, "average_index": index,
            "account_balance": round_fen(balance), "chosen_month": chosen}


def run(arguments: dict, today: date) -> Estimate:
    """The engine's answer; an input it refuses becomes a message at the form field it came from."""
    try:
        return estimate(today=today, **arguments)
    except PolicyInputError as error:
        name = _ENGINE_FIELDS.get(error.field.split(".")[0].split("[")[0], "birth_date")
        if name == "chosen_month":
            window = retirement(arguments["birth_date"], arguments["category"])
            raise ValidationFailed({name: Msg(_ENGINE_MESSAGES[name], {
                "earliest": i18n.format_month(window.earliest_month),
                "latest": i18n.format_month(window.latest_month)})}) from None
        raise ValidationFailed({name: Msg(_ENGINE_MESSAGES[name])}) from None


def projected_balance(result: Estimate) -> Decimal | None:
    """The personal-account balance at the statutory month the engine divided (shown, and given to the CLI)."""
    if result.pension is None:
        return None
    for step in result.pension.explanation.steps:
        if step.key == "pension.personal_account":
            return Decimal(dict(step.params)["balance"])
    return None


def _submitted(ctx: Ctx) -> bool:
    return any(name in ctx.query for name in FIELDS)


@endpoint(PUBLIC)
def estimator(ctx: Ctx):
    """The estimator form, with the results when the form has been submitted."""
    locale = ctx.locale
    page = {
        "regions": prefectures(ctx.today, locale),
        "categories": category_options(),
        "fragment": ctx.is_htmx,
    }
    template = "public/estimate_body.html" if ctx.is_htmx else "public/estimate.html"
    if not _submitted(ctx):
        return ctx.render(template, values=prefill_for(ctx), result=None, **page)
    values = {name: ctx.value(name) for name in FIELDS}
    try:
        result = run(parse(values, ctx.today, locale), ctx.today)
    except ValidationFailed as error:
        messages = {name: message.render(i18n.gettext) for name, message in error.errors.items()}
        return ctx.render(template, status=422, errors=messages, values=values, result=None, **page)
    return ctx.render(
        template,
        values=values,
        result=result,
        balance_at_retirement=projected_balance(result),
        chosen_row=result.chosen,
        labels=parameter_labels(locale),
        reasons=provisional_reasons(result.explanation.parameters),
        region_names=region_names(ctx.today, locale),
        **page,
    )


routes = [
    Route("/estimate", estimator, name="estimate"),
]
