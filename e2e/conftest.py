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
    from portal import assembly, clock
    from portal.db import transaction
    from portal.devtools import demo as demo_data

    assembly.assemble()  # the request kinds, registered at start-up: the demo files requests before the app exists
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
        accounts.register_person(session, actor=SYSTEM, id_number=data.id_number, name=data.name,
                                 mobile=data.mobile, password=data.password, password_confirm=data.password,
                                 now=now, today=now.astimezone(clock.CHINA).date())
    return data


@pytest.fixture
def person_on_record(sessionmaker, live_server) -> NewPerson:
    """A person the demo employer enrolled with their mobile number, who has no online account yet."""
    from datetime import date

    from sqlmodel import select

    from portal import clock
    from portal.db import transaction
    from portal.devtools import demo as demo_data
    from portal.models import Employer, EmploymentSpell, Person

    data = fresh_person()
    now = clock.now()
    with transaction(sessionmaker) as session:
        employer = session.exec(select(Employer).where(Employer.credit_code == demo_data.EMPLOYER_CODE)).one()
        birth = date(int(data.id_number[6:10]), int(data.id_number[10:12]), int(data.id_number[12:14]))
        person = Person(id_number=data.id_number, name=data.name, birth_date=birth,
                        sex="male" if int(data.id_number[16]) % 2 else "female", created_at=now,
                        mobile=data.mobile, mobile_source="enrolment")
        session.add(person)
        session.flush()
        session.add(EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=date(2024, 1, 1),
                                    wage_fen=650000, created_at=now))
    return data


def one_time_code(secret: str) -> str:
    from portal.auth.totp import code_at

    return code_at(secret, datetime.now(UTC))


# ---------------------------------------------------------------------------------------------------------
# Languages: the employer and staff journeys run once in each


LANGUAGES = {"zh": "zh_CN", "en": "en"}


@pytest.fixture(params=list(LANGUAGES.values()), ids=list(LANGUAGES))
def lang(request) -> str:
    """The language a journey runs in; the page objects choose it with ``?lang=`` (which sets the cookie)."""
    return request.param


# ---------------------------------------------------------------------------------------------------------
# Employers and staff of a test's own (the demo ones are shared by the whole session)

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
EMPLOYER_PASSWORD = "Songhua-Employer-2026"
STAFF_PASSWORD = "Songhua-Staff-Desk-2026"


@dataclass(frozen=True)
class EmployerAccount:
    id: int
    credit_code: str
    name: str
    username: str
    operator_name: str
    password: str = EMPLOYER_PASSWORD


@dataclass(frozen=True)
class StaffAccount:
    username: str
    name: str
    totp_secret: str
    password: str = STAFF_PASSWORD


@dataclass(frozen=True)
class ArrearsBill:
    employer: EmployerAccount
    bill_id: int
    person_name: str


def fresh_employer(sessionmaker) -> EmployerAccount:
    """A verified employer with an administrator and no employees, made directly in the database."""
    import uuid

    from portal.auth.passwords import hash_password
    from portal.db import transaction
    from portal.identifiers import make_credit_code
    from portal.models import Employer, EmployerOperator

    number = uuid.uuid4().int
    code_part = "".join(CREDIT_CODE_CHARS[(number >> (5 * i)) % len(CREDIT_CODE_CHARS)] for i in range(9))
    account = {"credit_code": make_credit_code("220100", code_part), "name": f"吉林松花测试有限公司{number % 10_000:04d}",
               "username": f"admin{uuid.uuid4().hex[:6]}", "operator_name": "林会计"}
    now = datetime.now(UTC)
    with transaction(sessionmaker) as session:
        employer = Employer(credit_code=account["credit_code"], name=account["name"], region="220100",
                            status="verified", created_at=now)
        session.add(employer)
        session.flush()
        session.add(EmployerOperator(employer_id=employer.id, username=account["username"],
                                     name=account["operator_name"], mobile="13904317777",
                                     password_hash=hash_password(EMPLOYER_PASSWORD), is_admin=True, created_at=now))
        employer_id = employer.id
    return EmployerAccount(id=employer_id, **account)


def employer_with_a_month_in_arrears(sessionmaker) -> ArrearsBill:
    """An employer of its own with one employee whose last month's bill is in arrears (as the demo employer has)."""
    import uuid

    from portal import clock
    from portal.db import transaction
    from portal.identifiers import make_resident_id
    from portal.models import Bill, ContributionMonth, EmploymentSpell, Person
    from portal.policy.dates import add_months, month_of
    from portal.policy.money import from_fen, to_fen
    from portal.policy.rules.contribution import employee_contribution
    from portal.services import billing

    employer = fresh_employer(sessionmaker)
    number = uuid.uuid4().int
    now = datetime.now(UTC)
    month = add_months(month_of(now.astimezone(clock.CHINA).date()), -1)
    with transaction(sessionmaker) as session:
        birth = date(1980, 1, 1 + number % 28)
        person = Person(id_number=make_resident_id("220102", birth, number % 997), name="高志远", birth_date=birth,
                        sex="male", created_at=now)
        session.add(person)
        session.flush()
        session.add(EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=month,
                                    wage_fen=600000, created_at=now))
        result = employee_contribution(from_fen(600000), month)
        row = ContributionMonth(person_id=person.id, month=month, base_fen=to_fen(result.base),
                                employer_part_fen=to_fen(result.employer), individual_part_fen=to_fen(result.individual),
                                personal_account_fen=to_fen(result.personal_account), source="employer_filing",
                                status="arrears", employer_id=employer.id, created_at=now)
        session.add(row)
        session.flush()
        total = row.employer_part_fen + row.individual_part_fen
        bill = Bill(payer_kind="employer", payer_id=employer.id, employer_id=employer.id, month=month,
                    due_date=billing.month_terms(month).due_date, total_fen=total, status="arrears", created_at=now)
        session.add(bill)
        session.flush()
        row.bill_id = bill.id  # the month is the bill's line
        bill_id = bill.id
    return ArrearsBill(employer=employer, bill_id=bill_id, person_name="高志远")


def fresh_staff(sessionmaker, role: str, *more_roles: str) -> StaffAccount:
    """A staff member of the test's own: a one-time code is accepted once per 30-s step and account, so two
    journeys signing in the same demo handler within a step would have to wait for the next one."""
    import uuid

    from portal.auth.principal import SYSTEM
    from portal.db import transaction
    from portal.services import accounts

    number = f"T{uuid.uuid4().hex[:7].upper()}"
    name = {"handler": "吴经办", "reviewer": "郑复核"}.get(role, "何主管")
    with transaction(sessionmaker) as session:
        staff = accounts.create_staff(session, actor=SYSTEM, staff_number=number, name=name,
                                      roles=[role, *more_roles],
                                      password=STAFF_PASSWORD, now=datetime.now(UTC))
        secret = staff.totp_secret
    return StaffAccount(username=number, name=name, totp_secret=secret)


# ---------------------------------------------------------------------------------------------------------
# The province's batch and the tax collector, played from the test


def run_billing(sessionmaker, month: date):
    """What the operator's monthly batch does (``portal billing run --month``), against the live server's database."""
    from portal.db import transaction
    from portal.services import billing

    with transaction(sessionmaker) as session:
        return billing.run_billing(session, month=month, now=datetime.now(UTC))


def collector_confirms(live_server: str, secret: str, sessionmaker, reference: str) -> dict:
    """What the tax collection side does: a signed JSON confirmation POSTed to the portal's callback."""
    import json
    import urllib.request

    from sqlmodel import select

    from portal import clock
    from portal.models import PaymentOrder
    from portal.policy.money import from_fen
    from portal.services.payments import callback_body, sign

    with sessionmaker() as session:
        amount = from_fen(session.exec(select(PaymentOrder.amount_fen).where(PaymentOrder.reference == reference)).one())
    body = callback_body(reference=reference, amount=amount, external_id=f"E2E-{reference}",
                         paid_at=datetime.now(UTC).astimezone(clock.CHINA).isoformat())
    request = urllib.request.Request(f"{live_server}/payments/callback", data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json", "X-Signature": sign(secret, body)})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live server on loopback
        return json.loads(response.read())
