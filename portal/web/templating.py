"""The one Jinja2 environment: autoescaping, gettext per request, locale-aware filters."""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from portal import i18n
from portal.services import idempotency
from portal.web import charts, policy_words

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"


def _field_error(errors: dict | None, name: str) -> str | None:
    if not errors:
        return None
    return errors.get(name)


_routes: ContextVar = ContextVar("routes")  # the app whose routes the page being rendered links to


def _url_for(name: str, /, **path_params) -> str:
    """The path of a named route, e.g. ``url_for('staff_case', reference=case.reference)``.

    A path, never an absolute URL: links stay on the host and scheme the visitor used (no Host header is trusted).
    An unknown name or a missing parameter fails the page rather than printing a dead link. It reads the app from
    the page being rendered, so macros imported without context can link too.
    """
    return _path_for(_routes.get(), name, tuple(sorted(path_params.items())))


@lru_cache(maxsize=8192)
def _path_for(app, name: str, path_params: tuple) -> str:
    # Starlette tries every route in turn for each link; a page links to the same few routes many times, and the
    # routes never change once the app is built.
    return str(app.url_path_for(name, **dict(path_params)))


def _readable_values(translate):
    """Jinja's gettext fills the placeholders itself: give it months and days as the sentence reads them."""
    @jinja2.pass_context
    def call(context, *args, **variables):
        return translate(context, *args, **i18n.readable(variables))

    return call


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)
    for name in ("gettext", "ngettext", "pgettext"):  # `_` looks gettext up by name
        env.globals[name] = _readable_values(env.globals[name])
    env.filters.update(
        money=lambda v: i18n.format_money(v),
        date=lambda v, style="long": i18n.format_date(v, style=style),
        datetime=lambda v: i18n.format_datetime(v),
        month=lambda v: i18n.format_month(v),
        number=lambda v, places=None: i18n.format_number(v, places=places),
    )
    env.globals.update(field_error=_field_error, Markup=Markup, url_for=_url_for, citation=policy_words.citation,
                       parameter_label=policy_words.parameter_label, value_word=policy_words.value_word,
                       chart_items=charts.draw_items)
    # A fresh key each time a form is shown (the csrf macro): its second submission is answered as its first.
    env.globals["new_idempotency_key"] = idempotency.new_key
    return env


def render(name: str, context: dict) -> str:
    request = context.get("request")
    token = _routes.set(request.app if request is not None else None)
    try:
        return environment().get_template(name).render(context)
    finally:
        _routes.reset(token)
