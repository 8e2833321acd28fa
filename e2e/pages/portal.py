"""The portal as a visitor uses it. Every method that loads a page checks it with axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from playwright.sync_api import Locator, Page, Response

from e2e.a11y import check_a11y, watch

HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60]")

# The page's own words: text nodes (and the names and titles assistive technology reads) outside parts marked as
# another language (the "中文" switch carries lang="zh-CN") and outside aria-hidden decoration.
_PAGE_WORDS = """() => {
  const own = (el) => { const marked = el.closest('[lang]'); return marked && marked.lang.startsWith('en')
                                                                  && !el.closest('[aria-hidden=true]'); };
  const found = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && own(node.parentElement) && !['SCRIPT', 'STYLE'].includes(node.parentElement.tagName))
      found.push(node.nodeValue);
  }
  for (const el of document.body.querySelectorAll('[aria-label], [title], [alt], [placeholder]'))
    if (own(el)) for (const name of ['aria-label', 'title', 'alt', 'placeholder'])
      if (el.getAttribute(name)) found.push(el.getAttribute(name));
  return found.map(text => text.replace(/\\s+/g, ' ').trim()).filter(Boolean);
}"""


@cache
def policy_sources() -> frozenset[str]:
    """Sources of the policy parameters: official titles, shown as published (in Chinese) in every language."""
    from portal.policy.parameters import all_parameters
    from portal.web.policy_words import citation

    sources = set()
    for parameter in all_parameters():
        sources.add(parameter.source)
        for region in (None, *parameter.regions):
            sources.update(value.source for value in parameter.values(region))
    cited = {document for source in sources for document in citation(source).documents}
    return frozenset(source for source in sources | cited if source)


class Portal:
    """``lang`` (``zh_CN`` or ``en``) makes the visit run in that language: the first page chosen with ``?lang=``
    (which the portal remembers in a cookie), and every page loaded afterwards checked to be in it."""

    def __init__(self, page: Page, lang: str | None = None, *, data: Iterable[str] = ()):
        self.page = page
        self.lang = lang
        self.data: set[str] = set(data)

    def knows(self, *data: str) -> Portal:
        """Words the test itself put in (names, typed reasons): an English page may show them as they were typed."""
        self.data.update(data)
        return self

    # -- language ------------------------------------------------------------------------------------------

    def t(self, message: str, **params: object) -> str:
        """The portal's own text for an English message id, in this visit's language (its catalogs, read-only):
        so a test finds a button by its visible name in either language without writing Chinese in selectors."""
        from portal import i18n

        text = i18n.translations(self.lang or i18n.DEFAULT_LOCALE).gettext(message)
        return text % params if params else text

    def with_lang(self, path: str) -> str:
        if self.lang is None:
            return path
        return f"{path}{'&' if '?' in path else '?'}lang={self.lang}"

    def _check_language(self) -> None:
        """The page is in the visit's language; in English, no Chinese is left in the page's own words except the
        data the test knows and the policy's sources (an untranslated string would show here)."""
        if self.lang is None:
            return
        shown = self.html.get_attribute("lang")
        assert shown == HTML_LANG[self.lang], f"{self.page.url} is in {shown!r}, not {HTML_LANG[self.lang]!r}"
        if self.lang != "en":
            return
        allowed = sorted(self.data | policy_sources(), key=len, reverse=True)
        left = []
        for text in self.page.evaluate(_PAGE_WORDS):
            rest = text
            for word in allowed:
                rest = rest.replace(word, "")
            if CJK.search(rest):
                left.append(text)
        assert not left, f"Chinese text on the English page {self.page.url}: {left}"

    # -- navigation --------------------------------------------------------------------------------------

    def open(self, path: str) -> Response | None:
        response = self.page.goto(path)
        check_a11y(self.page)
        self._check_language()
        return response

    def follow(self, target: Locator) -> Response | None:
        """Click a link or submit button that loads a new page; check that page; return its response.

        Waits for a new document rather than any navigation: htmx's history.replaceState (for instance when
        the identity-number check fires as the click moves focus) is a navigation too, but not a page load.
        """
        with self.page.expect_event("domcontentloaded"):
            target.click()
        check_a11y(self.page)
        self._check_language()
        return watch(self.page).last_document_response

    def submit(self, form: Locator) -> Response | None:
        return self.follow(form.locator("button[type=submit], input[type=submit]").last)

    # -- shell ---------------------------------------------------------------------------------------------

    @property
    def main(self) -> Locator:
        return self.page.locator("main#main")

    @property
    def heading(self) -> Locator:
        return self.main.locator("h1")

    @property
    def html(self) -> Locator:
        return self.page.locator("html")

    @property
    def account_nav(self) -> Locator:
        return self.page.locator("header nav.site-header__account")

    def switch_language(self, label: str) -> None:
        self.follow(self.page.locator("header nav.site-header__tools").get_by_role("link", name=label, exact=True))

    def toggle_display(self) -> None:
        self.follow(self.page.locator("header form[action='/display'] button[name=mode]"))

    def sign_out(self) -> Response | None:
        return self.submit(self.account_nav.locator("form[action='/logout']"))

    def area_link(self, message: str) -> Locator:
        """A link of the area's menu under the header, by its visible name in this visit's language."""
        return self.page.locator("header nav.area-nav").get_by_role("link", name=self.t(message), exact=True)

    def button(self, message: str, within: Locator | None = None) -> Locator:
        """A button by its visible name in this visit's language."""
        return (within or self.main).get_by_role("button", name=self.t(message), exact=True)

    def verify_employers_link(self) -> Locator:
        """Staff: the way from the workbench to employer verification (a plain page, or the handling queue)."""
        return self.page.locator("main a[href='/staff/employers'], header nav.area-nav a[href='/staff/employers'], "
                                 "header nav.area-nav a[href*='kind=employer_verification']").first

    def flash(self) -> Locator:
        return self.main.locator(".notice--success[role=status]")

    # -- forms ---------------------------------------------------------------------------------------------

    def field(self, name: str) -> Locator:
        return self.page.locator(f"#field-{name}")

    def fill(self, **values: str) -> None:
        for name, value in values.items():
            self.field(name).fill(value)

    def error_summary(self) -> Locator:
        return self.main.locator(".error-summary[role=alert]")

    def field_error(self, name: str) -> Locator:
        return self.page.locator(f"#field-{name}-error")

    # -- accounts ------------------------------------------------------------------------------------------

    def register_person(self, *, id_number: str, name: str, password: str, mobile: str | None = None,
                        password_confirm: str | None = None) -> Response | None:
        """Asks for an account; the answer is the proof step. ``mobile`` is ignored: a code goes only to the number
        on record."""
        self.open("/register")
        self.fill(id_number=id_number, name=name, password=password,
                  password_confirm=password if password_confirm is None else password_confirm)
        return self.submit(self.main.locator("form[action='/register']"))

    def sent_code(self, mobile: str) -> str:
        """The newest one-time code sent to ``mobile``, read off the development sink's page."""
        import re

        self.open(f"/dev/messages?to={mobile}")
        text = self.main.locator(".dev-message").first.inner_text()
        return re.search(r"\d{6}", text).group(0)

    def enter_code(self, code: str, action: str = "/register/code") -> Response | None:
        self.fill(code=code)
        return self.submit(self.main.locator(f"form[action='{action}']"))

    def sign_in(self, account_type: str, *, username: str, password: str, employer_code: str | None = None,
                otp: str | None = None, open_form: bool = True) -> Response | None:
        if open_form:
            self.open(self.with_lang(f"/login?account_type={account_type}"))
        form = self.main.locator("form[action='/login']")
        if employer_code is not None:
            self.field("employer_code").fill(employer_code)
        self.field("username").fill(username)
        self.field("password").fill(password)
        if otp is not None:
            self.field("otp").fill(otp)
        return self.submit(form)
