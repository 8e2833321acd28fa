"""Every page a test visits is checked with axe-core against the WCAG 2.2 AA rules; zero violations allowed.

How it is automatic: each Playwright page gets a ``PageWatch``. It counts the documents the page loads
(``domcontentloaded``) and ``check_a11y(page)`` marks the current one as checked; when the test ends the
fixture fails the test for any page load that was never checked, so a new page in a test cannot slip
through unchecked. The page objects in ``e2e/pages`` call ``check_a11y`` after every page load they cause.

The watch also fails the test on Content-Security-Policy violations, uncaught script errors and any 5xx
answer from the portal, whatever page the test is on; and the same check reads each page's text for internal
names (snake_case codes such as ``no_duplicate``), as ``tests/test_plain_words.py`` does for the unit walk.

How axe gets into a page despite the CSP (``script-src 'self'``, no inline script):
``page.add_script_tag`` would insert an inline ``<script>`` and be blocked, and ``bypass_csp=True``
would switch the policy off for the whole test, hiding exactly the CSP problems we want to see. Instead
the axe source is handed to ``page.evaluate``: Playwright runs it through the DevTools protocol
(``Runtime.evaluate``), which a page's CSP does not govern. So every test runs under the portal's real
CSP, and axe sees the page as visitors do.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Response

from tests.visible_text import internal_names

ROOT = Path(__file__).resolve().parent.parent
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# With JavaScript switched off (``java_script_enabled=False``) the page's timers never fire, and axe
# waits on setTimeout between its steps. Before running axe in such a page we replace setTimeout with a
# microtask, which still runs for code evaluated by Playwright. Only ever done in JS-disabled pages.
_TIMER_SHIM = """() => {
  window.setTimeout = (fn, _ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
  window.clearTimeout = () => {};
}"""

_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary, html: n.html.slice(0, 200)})),
  }));
}"""


# What a visitor reads or hears: the rendered text (no scripts or styles) and the read-out attributes.
_READ_TEXT = """() => [document.title, document.body.innerText,
  ...Array.from(document.querySelectorAll('[title], [aria-label], [placeholder], img[alt]'),
    el => ['title', 'aria-label', 'placeholder', 'alt'].map(name => el.getAttribute(name) || '').join(' '))].join('\\n')"""


class A11yViolations(AssertionError):
    pass


class InternalNames(AssertionError):
    pass


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} WCAG 2.2 AA violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}  ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {json.dumps(node['target'], ensure_ascii=False)}")
            for detail in (node.get("summary") or "").splitlines():
                lines.append(f"       {detail}")
    return "\n".join(lines)


class PageWatch:
    """Navigations, checks and problems seen on one Playwright page."""

    def __init__(self, page: Page, *, js_enabled: bool = True):
        self.page = page
        self.js_enabled = js_enabled
        self.navigations: list[str] = []
        self.checked: set[int] = set()
        self.csp_violations: list[str] = []
        self.script_errors: list[str] = []
        self.server_errors: list[str] = []
        self.last_document_response: Response | None = None
        # A new document, not a same-document change: htmx 4 calls history.replaceState after its requests,
        # which Playwright reports as "framenavigated" although the page stays the same. Parts that htmx
        # swaps in are checked by the tests that trigger them.
        page.on("domcontentloaded", self._on_document)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))
        page.on("response", self._on_response)

    def _on_document(self, page: Page) -> None:
        if page.url != "about:blank":
            self.navigations.append(page.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def _on_response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.last_document_response = response  # after redirects: the page's own answer
        if response.status >= 500:
            self.server_errors.append(f"{response.request.method} {response.url} -> {response.status}")

    def check(self) -> None:
        """Run axe on the page as it is now; raise with a readable list of violations."""
        page = self.page
        page.wait_for_load_state("load")
        for _attempt in range(3):
            seen = len(self.navigations)
            if not page.evaluate("() => typeof window.axe === 'object'"):
                if not self.js_enabled:
                    page.evaluate(_TIMER_SHIM)
                page.evaluate(axe_source() + "\n;0")
            violations = page.evaluate(_RUN_AXE, WCAG_TAGS)
            if len(self.navigations) == seen:  # the page did not change under axe
                break
            page.wait_for_load_state("load")
        self.checked.add(len(self.navigations))
        if violations:
            raise A11yViolations(format_violations(page.url, violations))
        names = internal_names(page.evaluate(_READ_TEXT))
        if names:
            raise InternalNames(f"internal names shown on {page.url}: {', '.join(names)}")

    def problems(self) -> list[str]:
        found = [f"page never checked with axe: {url} (page load {i} of the test)"
                 for i, url in enumerate(self.navigations, start=1) if i not in self.checked]
        found += [f"CSP violation: {text}" for text in self.csp_violations]
        found += [f"script error: {text}" for text in self.script_errors]
        found += [f"server error: {text}" for text in self.server_errors]
        return found


@cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        raise RuntimeError(f"{AXE_PATH} is missing: run `npm ci` (make setup) first")
    return AXE_PATH.read_text(encoding="utf-8")


_watches: dict[int, PageWatch] = {}


def watch(page: Page, *, js_enabled: bool = True) -> PageWatch:
    found = _watches.get(id(page))
    if found is None or found.page is not page:
        found = _watches[id(page)] = PageWatch(page, js_enabled=js_enabled)
    return found


def forget(page: Page) -> None:
    _watches.pop(id(page), None)


def check_a11y(page: Page) -> None:
    """Check the page the browser shows now with axe-core (call after every page load)."""
    watch(page).check()
