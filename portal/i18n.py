"""Languages: negotiation, catalogs, and locale-aware formatting of dates, numbers and money."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from portal.clock import CHINA

I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "portal_lang"
MAX_LANGUAGE_RANGES = 50  # a browser sends a handful; a longer header is cut, not refused
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?", re.ASCII)

_current: ContextVar[str] = ContextVar("portal_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(I18N_DIR), [locale], domain="messages")


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def current_locale() -> str:
    return _current.get()


def gettext(message: str, **params) -> str:
    text = translations(current_locale()).gettext(message)
    return text % readable(params) if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text % ({"num": n} | readable(params))


def pgettext(context: str, message: str, **params) -> str:
    text = translations(current_locale()).pgettext(context, message)
    return text % readable(params) if params else text


_ISO_MONTH = re.compile(r"\d{4}-\d{2}", re.ASCII)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def readable(params: dict) -> dict:
    """A message's values as the sentence reads them: a month stored as ``2026-11`` becomes 2026年11月 (November
    2026), a day 2026年11月5日 (5 November 2026). Messages and notices keep the ISO form, which sorts and parses."""
    return {name: _readable(value) for name, value in params.items()}


def _readable(value):
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, str):
        try:
            if _ISO_MONTH.fullmatch(value):
                return format_month(value)
            if _ISO_DAY.fullmatch(value):
                return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def normalise(tag: str | None) -> str | None:
    """Map a language tag such as ``en-GB`` or ``zh-Hans-CN`` to a locale we serve."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    if tag in LOCALES:
        return tag
    primary = tag.split("_")[0].lower()
    if primary == "zh":
        return "zh_CN"
    if primary == "en":
        return "en"
    return None


def negotiate(*, query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The ``lang`` query wins, then the remembered cookie, then the browser's preference."""
    for candidate in (query, cookie):
        found = normalise(candidate)
        if found:
            return found
    if accept_language:
        weighted = []
        for part in accept_language.split(",")[:MAX_LANGUAGE_RANGES]:
            tag, _, params = part.partition(";")
            weighted.append((_quality(params), tag))
        for _quality_value, tag in sorted(weighted, key=lambda item: -item[0]):
            found = normalise(tag)
            if found:
                return found
    return DEFAULT_LOCALE


def _quality(params: str) -> Decimal:
    """The ``q`` weight of one language range; anything but RFC 9110's ``0.###``/``1.000`` counts as 0.

    An explicit pattern, not ``Decimal(...)``: ``q=NaN`` parses as a Decimal that cannot be compared.
    """
    params = params.strip()
    if not params:
        return Decimal(1)
    name, _, value = params.partition("=")
    if name.strip().lower() != "q" or not _QVALUE.fullmatch(value.strip()):
        return Decimal(0)
    return Decimal(value.strip())


def babel_locale(locale: str | None = None) -> Locale:
    return _parsed(locale or current_locale())


@cache
def _parsed(name: str) -> Locale:
    # Parsing a locale name normalises it against every known locale: about 0.3 ms, once per figure on the page
    # unless it is done once here (a 30-year record shows some 700 months and amounts).
    return Locale.parse(name)


def format_money(amount: Decimal | int | None, locale: str | None = None) -> str:
    """¥1,234.56 in both languages: the yuan sign is what people in Jilin read."""
    if amount is None:
        return ""
    value = Decimal(amount).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    name = locale or current_locale()
    if _comma_and_point(name):
        # The same digits as Babel's pattern gives for these locales, at a tenth of the cost: a 40-year record
        # page shows some 5,000 amounts.
        return f"{sign}¥{abs(value):,.2f}"
    return f"{sign}¥{format_decimal(abs(value), format='#,##0.00', locale=babel_locale(name))}"


@cache
def _comma_and_point(name: str) -> bool:
    parsed = _parsed(name)
    return parsed.number_symbols["latn"]["group"] == "," and parsed.number_symbols["latn"]["decimal"] == "."


def format_number(value, locale: str | None = None, *, places: int | None = None) -> str:
    """1,234.5 (Babel's default pattern, #,##0.###) or, with ``places``, exactly that many decimal places."""
    name = locale or current_locale()
    if isinstance(value, int | Decimal) and not isinstance(value, bool) and Decimal(value).is_finite() \
            and _comma_and_point(name):
        # The same digits as Babel's pattern, rounded the same way (the decimal context's half-even), at a tenth of
        # the cost: Babel looks the locale's symbols up again for every number.
        if places is not None:
            return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):,f}"
        whole, _point, fraction = f"{Decimal(value).quantize(_THOUSANDTH):,f}".partition(".")
        fraction = fraction.rstrip("0")
        return f"{whole}.{fraction}" if fraction else whole
    fmt = None if places is None else "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(value, format=fmt, locale=babel_locale(name))


_THOUSANDTH = Decimal("0.001")


def format_date(value: date | None, locale: str | None = None, *, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(CHINA).date()
    return _format_date(value, format=style, locale=babel_locale(locale))


def format_datetime(value: datetime | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    return _format_datetime(value.astimezone(CHINA), format="medium", locale=babel_locale(locale))


def format_month(value: date | str | None, locale: str | None = None) -> str:
    """A contribution month: 2026年7月 / July 2026."""
    if value is None:
        return ""
    if isinstance(value, str):
        year, month = value.split("-")[:2]
        value = date(int(year), int(month), 1)
    locale = locale or current_locale()
    return _format_date(value, format="MMMM y" if locale == "en" else "y年M月", locale=babel_locale(locale))
