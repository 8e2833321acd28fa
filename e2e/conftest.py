"""Browser test set-up: Debian's Chromium, the portal on a loopback port, axe-core on every page.

The live server uses a fresh database (SQLite in a temporary directory, or PostgreSQL with
``PORTAL_TEST_DB=postgres`` and ``PORTAL_TEST_PG_URL``), migrated and seeded with the demo data.
Tests share it for the session, so each test that changes an account makes its own (see ``person``).
"""

from __future__ import annotations

import os

os.environ.setdefault("PORTAL_ENV", "test")
os.environ.setdefault("PORTAL_SECRET_KEY", "e2e-secret-key-not-for-production")
os.environ.setdefault("PORTAL_PAYMENT_SECRET", "e2e-payment-secret")

import itertools  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from e2e import a11y  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 15
ACTION_TIMEOUT_MS = 10_000  # a page on loopback answers in well under a second; fail fast when it does not
ROOT = Path(__file__).resolve().parent.parent


def _fail_setup(message: str) -> None:
    """A broken environment is a failure (never a skip), so CI cannot pass without running the suite."""
    pytest.exit(message, returncode=3)


# ---------------------------------------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        hint = "apt-get install -y chromium fonts-noto-cjk (or `make system-deps` as root)"
        where = " (CI=true: a missing browser fails the build)" if os.environ.get("CI") == "true" else ""
        _fail_setup(f"Debian's Chromium is missing at {CHROMIUM}{where}. Install it: {hint}. "
                    "Never run `playwright install` here.")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, base_url):
    # A Chinese-speaking visitor by default: Accept-Language decides the language until one is chosen.
    return {**browser_context_args, "base_url": base_url, "locale": "zh-CN",
            "viewport": {"width": 1280, "height": 900}}


# ---------------------------------------------------------------------------------------------------------
# The portal on loopback


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    from portal.migrate import upgrade

    if os.environ.get("PORTAL_TEST_DB") == "postgres":
        url = os.environ.get("PORTAL_TEST_PG_URL")
        if not url:
            _fail_setup("PORTAL_TEST_DB=postgres needs PORTAL_TEST_PG_URL")
        from sqlalchemy import create_engine, text

        try:
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        except Exception as error:  # an unreachable database is a failure, never a skip
            _fail_setup(f"PostgreSQL at {url} is unreachable: {error}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'portal.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url):
    from portal.settings import Settings

    return Settings(database_url=database_url, secret_key=os.environ["PORTAL_SECRET_KEY"], env="test",
                    payment_secret=os.environ["PORTAL_PAYMENT_SECRET"])


@pytest.fixture(scope="session")
def sessionmaker(database_url):
    from portal.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def demo(sessionmaker):
    """The demo accounts, seeded into the live server's database."""
    from portal import clock
    from portal.db import transaction
    from portal.services import demo as demo_data

    now = clock.now()
    with transaction(sessionmaker) as session:
        demo_data.seed(session=session, now=now, today=now.astimezone(clock.CHINA).date())
    return {(account.kind, account.label): account for account in demo_data.demo_accounts()}


@pytest.fixture(scope="session")
def live_server(settings, demo):
    """The portal served by uvicorn in a daemon thread on a free loopback port; yields its URL."""
    import uvicorn

    from portal.app import create_app

    static_htmx = ROOT / "static" / "vendor" / "htmx.min.js"
    if not static_htmx.exists():
        _fail_setup(f"{static_htmx} is missing: run `make setup` (it copies htmx from node_modules)")

    app = create_app(settings)
    # Bind first and hand the socket to uvicorn: no window in which another process can take the port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="portal-e2e-server", daemon=True)
    thread.start()
    waiter = threading.Event()
    for _ in range(int(SERVER_START_SECONDS / 0.05)):
        if server.started or not thread.is_alive():
            break
        waiter.wait(0.05)
    if not server.started:
        server.should_exit = True
        _fail_setup(f"the portal did not start on {host}:{port} within {SERVER_START_SECONDS} s")
    yield f"http://{host}:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """pytest-playwright resolves ``page.goto("/path")`` against this."""
    return live_server


# ---------------------------------------------------------------------------------------------------------
# axe-core on every page


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_call_failed = report.failed
    return report


def _assert_watched(request, watches: list[a11y.PageWatch]) -> None:
    problems = [problem for watch in watches for problem in watch.problems()]
    for watch in watches:
        a11y.forget(watch.page)
    if getattr(request.node, "e2e_call_failed", False):
        return  # the test's own failure says what went wrong; pages after it were never reached
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(page, request):
    """pytest-playwright's page, watched: every page load must be checked with axe (see e2e/a11y.py)."""
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    watch = a11y.watch(page)
    yield page
    _assert_watched(request, [watch])


@pytest.fixture
def open_page(new_context, request):
    """Another visitor with their own browser context, e.g. ``open_page(java_script_enabled=False)``.

    The page is watched like ``page``: every navigation must be checked with axe.
    """
    watches = []

    def make(**context_options):
        context = new_context(**context_options)
        new = context.new_page()
        new.set_default_timeout(ACTION_TIMEOUT_MS)
        watches.append(a11y.watch(new, js_enabled=context_options.get("java_script_enabled", True)))
        return new

    yield make
    _assert_watched(request, watches)


# ---------------------------------------------------------------------------------------------------------
# Accounts


@dataclass(frozen=True)
class NewPerson:
    id_number: str
    name: str
    mobile: str
    password: str


_SEQUENCE = itertools.count(1)
_RANDOM = random.Random()  # noqa: S311 - test data, not secrets
_NAMES = ("陈晓梅", "林国华", "高志远", "吴桂兰", "郑海波", "马丽娟", "黄永强", "何淑珍")


def fresh_person() -> NewPerson:
    """Valid, never-used registration data (a new identity number each call)."""
    from portal.identifiers import make_resident_id

    n = next(_SEQUENCE)
    birth = date(1970, 1, 1) + timedelta(days=_RANDOM.randrange(0, 30 * 365))
    id_number = make_resident_id("220102", birth, (_RANDOM.randrange(0, 900) + n) % 1000)
    return NewPerson(id_number=id_number, name=_RANDOM.choice(_NAMES), mobile=f"139{_RANDOM.randrange(10**8):08d}",
                     password=f"Songhua-River-{n}-{_RANDOM.randrange(10**6)}")


@pytest.fixture
def new_person() -> NewPerson:
    """Registration data for a person who has no account yet."""
    return fresh_person()


@pytest.fixture
def person(sessionmaker, live_server) -> NewPerson:
    """A person with an account of their own (made through the service layer, not the demo one)."""
    from portal import clock
    from portal.auth.principal import SYSTEM
    from portal.db import transaction
    from portal.services import accounts

    data = fresh_person()
    now = clock.now()
    with transaction(sessionmaker) as session:
        accounts.register_person(session=session, actor=SYSTEM, id_number=data.id_number, name=data.name,
                                 mobile=data.mobile, password=data.password, password_confirm=data.password,
                                 now=now, today=now.astimezone(clock.CHINA).date())
    return data


def one_time_code(secret: str) -> str:
    from portal.auth.totp import code_at

    return code_at(secret, datetime.now(UTC))
