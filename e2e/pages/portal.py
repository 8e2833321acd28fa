"""The portal as a visitor uses it. Every method that loads a page checks it with axe-core."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, Response

from e2e.a11y import check_a11y, watch


class Portal:
    def __init__(self, page: Page):
        self.page = page

    # -- navigation --------------------------------------------------------------------------------------

    def open(self, path: str) -> Response | None:
        response = self.page.goto(path)
        check_a11y(self.page)
        return response

    def follow(self, target: Locator) -> Response | None:
        """Click a link or submit button that loads a new page; check that page; return its response.

        Waits for a new document rather than any navigation: htmx's history.replaceState (for instance when
        the identity-number check fires as the click moves focus) is a navigation too, but not a page load.
        """
        with self.page.expect_event("domcontentloaded"):
            target.click()
        check_a11y(self.page)
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

    def register_person(self, *, id_number: str, name: str, mobile: str, password: str,
                        password_confirm: str | None = None) -> Response | None:
        self.open("/register")
        self.fill(id_number=id_number, name=name, mobile=mobile, password=password,
                  password_confirm=password if password_confirm is None else password_confirm)
        return self.submit(self.main.locator("form[action='/register']"))

    def sign_in(self, account_type: str, *, username: str, password: str, employer_code: str | None = None,
                otp: str | None = None, open_form: bool = True) -> Response | None:
        if open_form:
            self.open(f"/login?account_type={account_type}")
        form = self.main.locator("form[action='/login']")
        if employer_code is not None:
            self.field("employer_code").fill(employer_code)
        self.field("username").fill(username)
        self.field("password").fill(password)
        if otp is not None:
            self.field("otp").fill(otp)
        return self.submit(form)
