"""The layers and conventions the README describes, kept by reading the code (in the spirit of the no-float test).

- Imports follow the layer order: ``portal.policy`` imports nothing of the project but itself; ``portal.models``
  nothing above the tables (only the pure foundations: policy, clock, identifiers, errors, i18n); the
  use cases (``portal.services``) nothing of the web, the app or the development tools; the web
  (``portal.web``) never the tables (``portal.models``) directly: it calls services. An import only for type
  annotations (under ``if TYPE_CHECKING:``) does not count: it runs nothing.
- One service signature: a public function of the use cases (``portal/services/*.py``) or of the queue
  (``portal/queue/*.py``) that takes the session takes it first and positionally, and everything else by keyword:
  ``f(session, *, case, now)``.
- Views never commit or roll back: ``Ctx.fail``/``Ctx.refuse`` (portal/web/endpoint.py) do, at the request boundary.
- Every route has a name, given where it is declared, and no two routes share one (templates link by name).
- Templates build internal links with ``url_for``: no literal ``href="/..."`` or ``action="/..."`` (static files
  excepted); views redirect by route name too (``ctx.request.url_for(name, ...).path``), never to a literal
  ``"/..."``.

Each scanner is also run on a small sample that breaks its rule, so none of them can pass by seeing nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from starlette.routing import Mount, Route

from portal.app import create_app

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"
TEMPLATES = ROOT / "templates"

FOUNDATIONS = ("portal.policy", "portal.clock", "portal.identifiers", "portal.errors", "portal.i18n")
# (package, what it may import of the project: None = anything but the forbidden, forbidden prefixes)
LAYERS = {
    "portal.policy": (("portal.policy",), ()),
    "portal.models": (("portal.models", *FOUNDATIONS), ()),
    "portal.services": (None, ("portal.web", "portal.app", "portal.cli", "portal.assembly", "portal.devtools")),
    "portal.web": (None, ("portal.models",)),
    # Infrastructure below the use cases: the engine knows nothing of the project (but its crash points for
    # the tests), the queue and the audit chain nothing of the services.
    "portal.db": (("portal.faults",), ()),
    "portal.queue": (None, ("portal.services", "portal.web", "portal.app", "portal.cli", "portal.assembly",
                            "portal.devtools")),
    "portal.audit": (None, ("portal.services", "portal.queue", "portal.web", "portal.app", "portal.cli",
                            "portal.assembly", "portal.devtools")),
}
BOUNDARY = PORTAL / "web" / "endpoint.py"  # the request boundary owns the transaction
SESSION_NAMES = ("session", "db")


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Line numbers of the imports under ``if TYPE_CHECKING:`` (annotations only)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for child in ast.walk(inner):
                    if isinstance(child, ast.Import | ast.ImportFrom):
                        lines.add(child.lineno)
    return lines


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """Every project module ``path`` imports, at any depth of the code (lazy imports and import_module too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in found if name == "portal" or name.startswith("portal.")]


def _within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def layer_violations(root: Path = PORTAL) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        for layer, (allowed, forbidden) in LAYERS.items():
            if not _within(module, (layer,)):
                continue
            for line, name in imports_of(path, module):
                if name == "portal":
                    continue  # `from portal import x` is listed as portal.x as well
                if (allowed is not None and not _within(name, allowed)) or _within(name, forbidden):
                    found.append(f"{path.relative_to(root.parent)}:{line}: {layer} imports {name}")
    return found


def _service_modules() -> list[Path]:
    return [*sorted((PORTAL / "services").glob("*.py")), *sorted((PORTAL / "queue").glob("*.py"))]


def service_signature_violations(paths, root: Path = ROOT) -> list[str]:
    """Public module-level functions that take the session in another form than ``f(session, *, ...)``."""
    found = []
    for path in paths:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
                continue
            arguments = node.args
            positional = [argument.arg for argument in (*arguments.posonlyargs, *arguments.args)]
            named = [*positional, *(argument.arg for argument in arguments.kwonlyargs)]
            if not any(name in SESSION_NAMES for name in named):
                continue  # takes no session: not a use case
            if named[0] not in SESSION_NAMES or positional != named[:1] or arguments.vararg is not None:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.name}({ast.unparse(arguments)})")
    return found


def transaction_calls(root: Path = PORTAL / "web", boundary: Path = BOUNDARY) -> list[str]:
    """``x.commit()`` or ``x.rollback()`` anywhere in the web layer outside the request boundary."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == boundary:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("commit", "rollback")):
                found.append(f"{path.relative_to(root.parent.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def unnamed_routes(paths, root: Path = ROOT) -> list[str]:
    """``Route(...)`` and ``Mount(...)`` declared without ``name=`` (Starlette would name them after the function)."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in ("Route", "Mount")
                    and not any(keyword.arg == "name" for keyword in node.keywords)):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


# An internal address written into an attribute that links or submits somewhere; static files keep their paths.
LITERAL_URL = re.compile(r'\b(href|action|formaction|src|hx-get|hx-post|hx-put|hx-patch|hx-delete)="(/(?!static/)[^"]*)"')


def literal_urls(root: Path = TEMPLATES) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in LITERAL_URL.finditer(line):
                found.append(f"{path.relative_to(root.parent)}:{number}: {match.group(0)}")
    return found


def literal_redirects(root: Path = PORTAL / "web") -> list[str]:
    """``ctx.redirect("/...")`` or ``RedirectResponse(f"/...")``: an internal address written out in a view."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args
                    and ast.unparse(node.func).split(".")[-1] in ("redirect", "RedirectResponse")):
                continue
            target = node.args[0]
            if isinstance(target, ast.JoinedStr) and target.values:
                target = target.values[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str) and target.value.startswith("/"):
                found.append(f"{path.relative_to(root.parent.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def _route_declarations() -> list[Path]:
    return [PORTAL / "app.py", *sorted((PORTAL / "web").rglob("*.py"))]


# --- the rules hold in the tree -------------------------------------------------------------------------------


def test_every_import_follows_the_layer_order():
    assert layer_violations() == []


def test_every_service_takes_the_session_first_and_everything_else_by_keyword():
    assert service_signature_violations(_service_modules()) == []


def test_no_view_commits_or_rolls_back_the_transaction():
    assert transaction_calls() == []


def test_every_route_is_declared_with_a_name():
    assert unnamed_routes(_route_declarations()) == []


def test_no_two_routes_share_a_name(settings):
    app = create_app(settings)
    try:
        names = []

        def walk(routes):
            for route in routes:
                if isinstance(route, Mount):
                    names.append(route.name)
                    walk(route.routes)
                elif isinstance(route, Route):
                    names.append(route.name)

        walk(app.routes)
    finally:
        app.state.engine.dispose()
    assert len(names) > 100
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_templates_link_by_route_name_not_by_literal_address():
    assert literal_urls() == []


def test_views_redirect_by_route_name_not_by_literal_address():
    assert literal_redirects() == []


# --- each scanner catches what it is for ----------------------------------------------------------------------


def test_the_layer_scan_catches_imports_against_the_order(tmp_path):
    root = tmp_path / "portal"
    files = {
        "policy/rules.py": "from portal.models import Person\n",
        "models/person.py": "import portal.services.audit\n",
        "services/billing.py": "def f():\n    from portal.web import endpoint\n",
        "web/pages.py": "from portal.models import Bill\nfrom ..models import Case\n",
        "web/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from portal.models import Case\n",
        "queue/service.py": "import importlib\nimportlib.import_module('portal.web.staff')\n",
        "models/fine.py": "from portal.policy.dates import month_of\nfrom portal.models.base import Base\n",
        "db.py": "from portal.faults import crash_point\nfrom portal.services import audit\n",
        "audit/__init__.py": "from portal.models import AuditEvent\nfrom portal.queue import cases\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    assert layer_violations(root) == [
        "portal/audit/__init__.py:2: portal.audit imports portal.queue.cases",
        "portal/db.py:2: portal.db imports portal.services.audit",
        "portal/models/person.py:1: portal.models imports portal.services.audit",
        "portal/policy/rules.py:1: portal.policy imports portal.models.Person",
        "portal/queue/service.py:2: portal.queue imports portal.web.staff",
        "portal/services/billing.py:2: portal.services imports portal.web.endpoint",
        "portal/web/pages.py:1: portal.web imports portal.models.Bill",
        "portal/web/pages.py:2: portal.web imports portal.models.Case",
    ]


def test_the_signature_scan_catches_every_other_form_of_taking_the_session(tmp_path):
    sample = tmp_path / "billing.py"
    sample.write_text(
        "def good(session, *, actor, now): ...\n"
        "def no_session(value, *, today): ...\n"
        "def _private(session, case): ...\n"
        "def keyword_only(*, session, actor): ...\n"
        "def positional(session, case, now): ...\n"
        "def second(actor, session): ...\n"
        "def spread(db, *cases): ...\n", encoding="utf-8")
    assert service_signature_violations([sample], root=tmp_path) == [
        "billing.py:4: keyword_only(*, session, actor)",
        "billing.py:5: positional(session, case, now)",
        "billing.py:6: second(actor, session)",
        "billing.py:7: spread(db, *cases)",
    ]


def test_the_redirect_scan_catches_a_literal_address_written_in_a_view(tmp_path):
    web = tmp_path / "portal" / "web"
    web.mkdir(parents=True)
    (web / "pages.py").write_text(
        'def a(ctx):\n    return ctx.redirect("/me")\n'
        'def b(ctx, case):\n    return ctx.redirect(f"/staff/cases/{case.reference}")\n'
        'def c(ctx):\n    return ctx.redirect(ctx.request.url_for("home").path)\n'
        'def d(request):\n    return RedirectResponse(f"{request.url_for(\'login_form\').path}?next=x")\n',
        encoding="utf-8")
    assert literal_redirects(web) == ["portal/web/pages.py:2: ctx.redirect('/me')",
                                      "portal/web/pages.py:4: ctx.redirect(f'/staff/cases/{case.reference}')"]


def test_the_transaction_scan_catches_a_view_that_rolls_back(tmp_path):
    web = tmp_path / "portal" / "web"
    (web / "person").mkdir(parents=True)
    (web / "endpoint.py").write_text("db.commit()\n", encoding="utf-8")
    (web / "person" / "view.py").write_text("def v(ctx):\n    ctx.db.rollback()\n    ctx.db.commit()\n",
                                             encoding="utf-8")
    assert transaction_calls(web, boundary=web / "endpoint.py") == [
        "portal/web/person/view.py:2: ctx.db.rollback()", "portal/web/person/view.py:3: ctx.db.commit()"]


def test_the_route_scan_catches_a_route_without_a_name(tmp_path):
    sample = tmp_path / "routes.py"
    sample.write_text('routes = [Route("/a", a, name="a"), Route("/b", b, methods=["GET"])]\n', encoding="utf-8")
    assert unnamed_routes([sample], root=tmp_path) == ['routes.py:1: Route(\'/b\', b, methods=[\'GET\'])']


def test_the_template_scan_catches_a_literal_address_but_not_a_static_file(tmp_path):
    root = tmp_path / "templates"
    root.mkdir()
    (root / "page.html").write_text(
        '<a href="/me/records">x</a>\n<link href="/static/site.css">\n<a href="{{ url_for(\'home\') }}">y</a>\n'
        '<form method="post" action="/login"><div hx-get="/staff/queue/list"></div></form>\n', encoding="utf-8")
    assert literal_urls(root) == ['templates/page.html:1: href="/me/records"',
                                  'templates/page.html:4: action="/login"',
                                  'templates/page.html:4: hx-get="/staff/queue/list"']
