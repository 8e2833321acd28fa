"""Public verification of an insurance certificate: anyone holding the code, no sign-in.

    GET /verify                 the form (?code=... sends the visitor to the code's page)
    GET /verify/{code}          what was issued under the code, or a plain "unknown code" page (404)

An unknown code reveals nothing: the same page whether the code is malformed, never issued, or anything else.
"""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.errors import N_
from portal.services import certificates, claims
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint

KINDS = {
    "flexible": N_("Flexible employment (paid by the person)"),
    "transfer_in": N_("Transferred in from another pension scheme"),
    "deemed": N_("Deemed contribution months (视同缴费)"),
}


@endpoint(PUBLIC)
def verify_form(ctx: Ctx):
    if "code" not in ctx.query:
        return ctx.render("public/verify.html", values={}, errors={})
    typed = ctx.value("code")
    if not typed:
        errors = {"code": i18n.gettext("Enter the verification code printed on the certificate.")}
        return ctx.render("public/verify.html", status=422, values={"code": typed}, errors=errors)
    code = certificates.normalise_code(typed)
    if code is None:
        return _unknown(ctx, typed)
    return ctx.redirect(ctx.request.url_for("verify_code", code=code).path)


def _unknown(ctx: Ctx, typed: str):
    return ctx.render("public/verify.html", status=404, values={"code": typed}, errors={}, unknown=True)


@endpoint(PUBLIC)
def verify_code(ctx: Ctx):
    typed = ctx.path_params["code"]
    found = certificates.verify(ctx.db, code=typed)
    if found is None:
        award = claims.verify(ctx.db, code=typed)  # award letters share the codes and this page
        if award is None:
            return _unknown(ctx, typed)
        return ctx.render("public/verify_award.html", found=award, grouped=certificates.grouped_code(award.code))
    return ctx.render("public/verify_result.html", found=found, kinds=KINDS,
                      grouped=certificates.grouped_code(found.code))


routes = [
    Route("/verify", verify_form, methods=["GET"], name="verify"),
    Route("/verify/{code}", verify_code, methods=["GET"], name="verify_code"),
]
