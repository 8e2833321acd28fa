"""The yearly base declaration (/employer/declarations): a form or a file, a preview, then confirmation."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Msg, ValidationFailed
from portal.services import declarations, upload_limits
from portal.services.declarations import DeclarationRefused, InputRow
from portal.web.access import EMPLOYER
from portal.web.endpoint import Ctx, endpoint
from portal.web.limits import upload_refusal
from portal.web.parse import MAX_PAGE, query_int, whole_number


def _year(ctx: Ctx) -> int:
    choices = declarations.year_choices(ctx.today)
    text = ctx.value("year") or ctx.query.get("year", "")
    year = whole_number(text, low=min(choices), high=max(choices))
    return year if year in choices else choices[0]


def _shown(problem) -> dict:
    return {"row": problem.row, "column": problem.column, "value": problem.value,
            "text": problem.message.render(i18n.gettext)}


def _page(ctx: Ctx, *, year: int, error: ValidationFailed | None = None, problems=None):
    employer = declarations.employer_of(ctx.db, actor=ctx.actor)
    extra = {"employer": employer, "year": year, "years": declarations.year_choices(ctx.today),
             "problems": [_shown(problem) for problem in problems or []], "form_limit": declarations.FORM_LIMIT, "people": [], "summary": None}
    if employer is not None and employer.status == "verified":
        people = declarations.employees_in_year(ctx.db, actor=ctx.actor, year=year)
        extra["people"] = people
        extra["summary"] = declarations.summary(ctx.db, actor=ctx.actor, year=year)
    if error is not None:
        return ctx.render_invalid("employer/declarations.html", error, **extra)
    defaults = {f"wage_{p.person_id}": str(p.declared_wage or p.spell_wage) for p in extra["people"]}
    return ctx.render("employer/declarations.html", values=defaults, **extra)


@endpoint(EMPLOYER)
def declaration_page(ctx: Ctx):
    return _page(ctx, year=_year(ctx))


def _prepared(ctx: Ctx, year: int, rows: list[InputRow], source: str):
    draft = declarations.prepare(ctx.db, actor=ctx.actor, year=year, rows=rows, source=source, now=ctx.now,
                                 today=ctx.today)
    return ctx.redirect(ctx.request.url_for("employer_declaration_preview", token=draft.token).path)


@endpoint(EMPLOYER)
def submit_form(ctx: Ctx):
    year = _year(ctx)
    people = declarations.employees_in_year(ctx.db, actor=ctx.actor, year=year)
    if not people:
        return _page(ctx, year=year, error=ValidationFailed({"form": Msg(N_("You have no employees in this "
                                                                            "contribution year."))}))
    rows = [InputRow(index, p.id_number, p.name, ctx.value(f"wage_{p.person_id}"))
            for index, p in enumerate(people, start=2)]
    by_row = {index: p for index, p in enumerate(people, start=2)}
    try:
        return _prepared(ctx, year, rows, "form")
    except DeclarationRefused as refused:
        errors = {}
        for problem in refused.problems:
            person = by_row.get(problem.row)
            if person is not None and problem.column == "wage":
                errors.setdefault(f"wage_{person.person_id}", problem.message)
            else:  # the form only carries wages; anything else belongs to the form as a whole
                errors.setdefault("form", problem.message)
        return ctx.refuse(_page, ctx, year=year, error=ValidationFailed(errors))


@endpoint(EMPLOYER)
def upload(ctx: Ctx):
    year = _year(ctx)
    sent = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(sent, UploadFile) or not sent.filename:
        return _page(ctx, year=year, error=ValidationFailed({"file": Msg(N_("Choose a CSV or Excel file to "
                                                                            "upload."))}))
    throttled = upload_refusal(ctx)
    if throttled is not None:
        return throttled
    sent.file.seek(0)
    data = sent.file.read(declarations.MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
    try:
        rows = declarations.read_upload(ctx.db, actor=ctx.actor, filename=sent.filename, data=data)
        source = "xlsx" if sent.filename.lower().endswith(".xlsx") else "csv"
        response = _prepared(ctx, year, rows, source)
    except DeclarationRefused as refused:
        return ctx.refuse(_refused_upload, ctx, year, refused)
    upload_limits.note(ctx.db, actor=ctx.actor, now=ctx.now, what="declaration", accepted=True)
    return response


def _refused_upload(ctx: Ctx, year: int, refused: DeclarationRefused):
    """The refusal counts towards the upload limit; nothing else of the upload is kept."""
    upload_limits.note(ctx.db, actor=ctx.actor, now=ctx.now, what="declaration", accepted=False)
    return _page(ctx, year=year, error=refused, problems=refused.problems)


def _template_name(year: int, extension: str) -> str:
    return f"base-declaration-{year}-{year + 1}.{extension}"


@endpoint(EMPLOYER)
def template_csv(ctx: Ctx):
    year = _year(ctx)
    body = declarations.template_csv(ctx.db, actor=ctx.actor, year=year)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_template_name(year, "csv")}"'})


@endpoint(EMPLOYER)
def template_xlsx(ctx: Ctx):
    year = _year(ctx)
    body = declarations.template_xlsx(ctx.db, actor=ctx.actor, year=year)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     headers={"Content-Disposition": f'attachment; filename="{_template_name(year, "xlsx")}"'})


@endpoint(EMPLOYER)
def preview(ctx: Ctx):
    page = query_int(ctx.query, "page", default=1, low=1, high=MAX_PAGE)
    shown = declarations.preview(ctx.db, actor=ctx.actor, token=ctx.path_params["token"], now=ctx.now, page=page)
    return ctx.render("employer/declarations_preview.html", preview=shown, token=ctx.path_params["token"])


@endpoint(EMPLOYER)
def confirm(ctx: Ctx):
    year, count = declarations.confirm(ctx.db, actor=ctx.actor, token=ctx.path_params["token"], now=ctx.now)
    ctx.flash("The declaration for %(year)s was saved: %(count)s employees.", year=f"{year}–{year + 1}",
              count=count)
    return ctx.redirect(f"{ctx.request.url_for('employer_declarations').path}?year={year}")


routes = [
    Route("/employer/declarations", declaration_page, methods=["GET"], name="employer_declarations"),
    Route("/employer/declarations/form", submit_form, methods=["POST"], name="employer_declaration_form"),
    Route("/employer/declarations/upload", upload, methods=["POST"], name="employer_declaration_upload"),
    Route("/employer/declarations/template.csv", template_csv, methods=["GET"], name="employer_declaration_csv"),
    Route("/employer/declarations/template.xlsx", template_xlsx, methods=["GET"], name="employer_declaration_xlsx"),
    Route("/employer/declarations/preview/{token:str}", preview, methods=["GET"], name="employer_declaration_preview"),
    Route("/employer/declarations/preview/{token:str}", confirm, methods=["POST"], name="employer_declaration_confirm"),
]
