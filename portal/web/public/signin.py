"""Sign in, sign out, and registration for persons and employers."""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.auth import sessions
from portal.errors import ValidationFailed
from portal.policy.regions import PREFECTURES
from portal.services import accounts, signin
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint
from portal.web.public import essc, identity
from portal.web.public.pages import safe_next

ACCOUNT_TYPES = ("person", "employer", "staff")


def _login_page(ctx: Ctx, *, status: int = 200, error: str | None = None, **extra):
    values = ctx.values()
    values.pop("password", None)
    values.pop("otp", None)
    account_type = values.get("account_type") or ctx.query.get("account_type") or "person"
    if account_type not in ACCOUNT_TYPES:
        account_type = "person"
    return ctx.render("public/login.html", status=status, values=values, account_type=account_type, error=error,
                      next=safe_next(ctx.value("next"), ""), **extra)


@endpoint(PUBLIC)
def login_form(ctx: Ctx):
    if ctx.principal is not None:
        return ctx.redirect(ctx.principal.home)
    return _login_page(ctx)


@endpoint(PUBLIC, repeatable=True)
def login(ctx: Ctx):
    account_type = ctx.value("account_type")
    errors = {}
    if account_type not in ACCOUNT_TYPES:
        errors["account_type"] = i18n.gettext("Choose who you are signing in as.")
    # In the order of the form, so the error summary reads top to bottom like the fields.
    if account_type == "employer" and not ctx.value("employer_code"):
        errors["employer_code"] = i18n.gettext("Enter the employer's unified social credit code.")
    if not ctx.value("username"):
        errors["username"] = i18n.gettext("Enter your account name.")
    if not (ctx.form.get("password") or ""):
        errors["password"] = i18n.gettext("Enter your password.")
    if account_type == "staff" and not ctx.value("otp"):
        errors["otp"] = i18n.gettext("Enter the 6-digit code from your authenticator app.")
    if errors:
        return _login_page(ctx, status=422, errors=errors)
    result = signin.sign_in(
        ctx.db, settings=ctx.settings, account_type=account_type, username=ctx.value("username"),
        password=ctx.form.get("password") or "", employer_code=ctx.value("employer_code"), otp=ctx.value("otp"),
        address=ctx.actor.address, now=ctx.now, notifier=ctx.notifier,
    )
    if isinstance(result, signin.Refused):
        if result.retry_after is not None:  # the address, not the account: "too many requests", with when to retry
            page = _login_page(ctx, status=429, error=result.message.render(i18n.gettext))
            page.headers["Retry-After"] = str(int(result.retry_after.total_seconds()))
            return page
        # The same answer for an unknown account, a wrong password and a locked account (the holder is told).
        return _login_page(ctx, status=400, error=result.message.render(i18n.gettext))
    old = ctx.request.cookies.get(sessions.COOKIE)
    sessions.end(session=ctx.db, token=old)  # a fresh session id at every sign-in
    ctx.set_cookie(sessions.COOKIE, result.token)
    return ctx.redirect(safe_next(ctx.value("next"), result.principal.home))


@endpoint(PUBLIC, repeatable=True)
def logout(ctx: Ctx):
    """Ends the session here; a card sign-in's goes on to the card provider to end its session too."""
    id_token = signin.sign_out(ctx.db, token=ctx.request.cookies.get(sessions.COOKIE), actor=ctx.actor,
                               now=ctx.now)
    ctx.set_cookie(sessions.COOKIE, None)
    at_provider = essc.sign_out_at_provider(ctx, id_token)
    if at_provider is not None:
        return at_provider
    ctx.flash("You have signed out.")
    return ctx.redirect(ctx.request.url_for("home").path)


@endpoint(PUBLIC)
def register_person_form(ctx: Ctx):
    return ctx.render("public/register_person.html")


@endpoint(PUBLIC)
def register_person(ctx: Ctx):
    """Registration asks for the proof step whatever is known of the identity number (portal/web/public/identity.py)."""
    return identity.start(ctx, "register", "public/register_person.html")


@endpoint(PUBLIC, repeatable=True)
def check_id_number(ctx: Ctx):
    """htmx: check the identity number as the visitor leaves the field."""
    value = ctx.value("id_number")
    problem = accounts.identity_problem(value, today=ctx.today) if value else None
    message = problem.render(i18n.gettext) if problem else None
    return ctx.render("public/_id_check.html", message=message)


@endpoint(PUBLIC)
def register_employer_form(ctx: Ctx):
    return ctx.render("public/register_employer.html", prefectures=PREFECTURES)


@endpoint(PUBLIC)
def register_employer(ctx: Ctx):
    try:
        accounts.register_employer(
            ctx.db, actor=ctx.actor, credit_code=ctx.value("credit_code"),
            employer_name=ctx.value("employer_name"), region=ctx.value("region"), username=ctx.value("username"),
            operator_name=ctx.value("operator_name"), mobile=ctx.value("mobile"),
            password=ctx.form.get("password") or "", password_confirm=ctx.form.get("password_confirm") or "",
            now=ctx.now,
        )
    except ValidationFailed as error:
        return ctx.render_invalid("public/register_employer.html", error, prefectures=PREFECTURES)
    ctx.flash("The employer is registered and waits for verification by provincial staff. You can sign in now.")
    return ctx.redirect(ctx.request.url_for("login_form").path + "?account_type=employer")


routes = [
    Route("/login", login_form, methods=["GET"], name="login_form"),
    Route("/login", login, methods=["POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/register", register_person_form, methods=["GET"], name="register_person_form"),
    Route("/register", register_person, methods=["POST"], name="register_person"),
    Route("/register/check-id", check_id_number, methods=["POST"], name="check_id_number"),
    Route("/register/employer", register_employer_form, methods=["GET"], name="register_employer_form"),
    Route("/register/employer", register_employer, methods=["POST"], name="register_employer"),
]
