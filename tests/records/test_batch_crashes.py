"""A batch killed (SIGKILL) at any point and run again leaves exactly what one clean run leaves.

The batches run as the ``portal`` command in a child process that kills itself at a named crash point
(``PORTAL_CRASH_AT``, see ``portal.faults``): inside the work, just before the commit, and just after the commit
but before its audit events are sealed. The outcome is compared by natural keys (payer, month, person), not row
ids, because a transaction killed on PostgreSQL still uses up sequence numbers.
"""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from datetime import date

import httpx2 as httpx
import pytest
from sqlalchemy import text

from portal import clock
from portal.db import make_sessionmaker
from portal.models import BaseDeclaration, ContributionMonth, PersonalAccountYear
from portal.services import billing, declarations
from portal.services.declarations import InputRow
from portal.services.personal_accounts import credit_interest
from portal.settings import ROOT, from_environment
from tests import factories
from tests.helpers import snapshot
from tests.records.support import NOW, employer_actor, flexible, spell

KILLED = -signal.SIGKILL


def portal_command(database_url: str, *args: str, crash_at: str = "") -> subprocess.CompletedProcess:
    env = os.environ | {"PORTAL_ENV": "test", "PORTAL_DATABASE_URL": database_url, "PORTAL_CRASH_AT": crash_at}
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def clean_run(engine, outcome, work) -> dict:
    """What one uninterrupted run leaves, read inside its own transaction and then rolled back."""
    session = make_sessionmaker(engine)()
    try:
        work(session)
        session.flush()
        return outcome(session.connection())
    finally:
        session.rollback()
        session.close()


def _rows(connection, sql: str) -> list[tuple]:
    return sorted(tuple(str(value) for value in row) for row in connection.execute(text(sql)).all())


def _audit(connection) -> list[tuple]:
    return _rows(connection, "SELECT action, object_type, object_id, detail FROM audit_event")


def billing_outcome(connection) -> dict:
    bill = "b.payer_kind, b.payer_id, b.month, b.part"
    return {
        "bills": _rows(connection, f"SELECT {bill}, b.due_date, b.total_fen, b.status FROM bill b"),  # noqa: S608
        "months": _rows(connection, f"""
            SELECT c.person_id, c.month, c.source, c.base_fen, c.employer_part_fen, c.individual_part_fen,
                   c.personal_account_fen, c.status, c.employer_id, {bill}
            FROM contribution_month c LEFT JOIN bill b ON b.id = c.bill_id"""),  # noqa: S608
        "lines": _rows(connection, f"""
            SELECT {bill}, c.person_id, c.month, c.base_fen, c.employer_part_fen + c.individual_part_fen
            FROM contribution_month c JOIN bill b ON b.id = c.bill_id"""),  # noqa: S608
        "audit": _audit(connection),
    }


def interest_outcome(connection) -> dict:
    return {
        "years": _rows(connection, """
            SELECT person_id, year, opening_balance_fen, contributions_fen, interest_fen, closing_balance_fen,
                   interest_rate FROM personal_account_year"""),
        "audit": _audit(connection),
    }


def outcome_now(engine, outcome) -> dict:
    with engine.connect() as connection:
        return outcome(connection)


def crash_then_recover(engine, database_url, command: list[str], points: list[str], outcome, expected) -> str:
    """Kills the command at each point before its commit (nothing may change), then just after the commit
    (all of it is there), reruns it to the end, seals the audit log and verifies it. Returns the rerun's output."""
    untouched = snapshot(engine)
    for point in [*points, "transaction.commit"]:
        killed = portal_command(database_url, *command, crash_at=point)
        assert killed.returncode == KILLED, (point, killed.returncode, killed.stderr)
        assert snapshot(engine) == untouched, f"a run killed at {point} left something behind"
    killed = portal_command(database_url, *command, crash_at="transaction.committed")
    assert killed.returncode == KILLED, killed.stderr
    assert outcome_now(engine, outcome) == expected  # committed whole, its audit event not sealed yet
    rerun = portal_command(database_url, *command)
    assert rerun.returncode == 0, rerun.stderr
    assert outcome_now(engine, outcome) == expected  # the rerun added nothing
    assert portal_command(database_url, "audit", "seal").returncode == 0  # cron links what the killed run left
    verified = portal_command(database_url, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout and "not sealed" not in verified.stdout, \
        verified.stdout
    return rerun.stdout


@pytest.mark.parametrize("environment", ["production", "development"])
def test_the_crash_points_are_inert_outside_the_test_environment(environment):
    variables = {"PORTAL_CRASH_AT": "transaction.commit", "PORTAL_SECRET_KEY": "k" * 40,
                 "PORTAL_PAYMENT_SECRET": "p" * 40, "PORTAL_SMS_URL": "https://sms.example", "PORTAL_SMS_KEY": "s"}
    assert from_environment(variables | {"PORTAL_ENV": environment}).crash_at == ""
    assert from_environment(variables | {"PORTAL_ENV": "test"}).crash_at == "transaction.commit"


def test_a_billing_run_killed_at_any_point_and_run_again_bills_exactly_as_one_clean_run(db, engine, database_url):
    employer, other = factories.employer(db), factories.employer(db)
    for wage in (300000, 700000, 3000000):
        spell(db, employer=employer, wage_fen=wage)
    spell(db, employer=other, wage_fen=520000)
    flexible(db, percents={2025: 100})
    flexible(db)
    db.commit()

    def bill(session):
        billing.run_billing(session, month=date(2025, 9, 1), now=clock.now())
        billing.mark_arrears(session, today=clock.today())

    expected = clean_run(engine, billing_outcome, bill)
    assert len(expected["bills"]) == 4 and len(expected["lines"]) == 6 and len(expected["audit"]) == 1

    rerun = crash_then_recover(engine, database_url, ["billing", "run", "--month", "2025-09"],
                               ["billing.months", "billing.lines"], billing_outcome, expected)
    assert "0 new bills, 0 new lines" in rerun


def test_interest_crediting_killed_at_any_point_and_run_again_credits_exactly_as_one_clean_run(
        db, engine, database_url):
    for opening, credits in ((1_000_000, [3, 11]), (0, [1, 2, 12]), (2_500_000, [])):
        person = factories.person(db)
        if opening:
            db.add(PersonalAccountYear(person_id=person.id, year=2023, opening_balance_fen=0, contributions_fen=0,
                                       interest_fen=0, closing_balance_fen=opening, interest_rate="0",
                                       credited_at=NOW))
        for month in credits:
            db.add(ContributionMonth(person_id=person.id, month=date(2024, month, 1), base_fen=600000,
                                     personal_account_fen=48000, source="employer_filing", status="paid",
                                     created_at=NOW))
    db.commit()

    expected = clean_run(engine, interest_outcome, lambda session: credit_interest(session, year=2024, now=clock.now()))
    assert len(expected["years"]) == 3 + 2 and len(expected["audit"]) == 1

    rerun = crash_then_recover(engine, database_url, ["accounts", "credit-interest", "--year", "2024"],
                               ["interest.credited"], interest_outcome, expected)
    assert "0 accounts written or changed" in rerun


class Server:
    """The portal under uvicorn in a child process, serving on a socket the test opened (so no port is guessed)."""

    def __init__(self, database_url: str, *, crash_at: str = "") -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        fd = self.socket.fileno()
        env = os.environ | {"PORTAL_ENV": "test", "PORTAL_DATABASE_URL": database_url, "PORTAL_CRASH_AT": crash_at,
                            "PORTAL_AUDIT_SEAL_MS": "0"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "portal.app:create_app", "--fd", str(fd),
             "--no-access-log"], pass_fds=(fd,), env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            if "Application startup complete" in line:
                break
        else:
            raise AssertionError(f"the server did not start (exit {self.process.wait()})")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep its pipe from filling

    def killed(self) -> bool:
        return self.process.wait(timeout=60) == KILLED

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.socket.close()


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` (CSRF token, one-time key), as a browser sends them."""
    form = re.search(r'<form[^>]*action="' + re.escape(action) + r'".*?</form>', page, re.S)
    assert form, f"no form for {action}"
    return {html.unescape(name): html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))}


def settled(engine, database_url) -> dict:
    """Every row, once the audit events of the requests answered so far are sealed (a server seals them just
    after answering; ``portal audit seal`` waits for it or does it, so the snapshot does not race it)."""
    assert portal_command(database_url, "audit", "seal").returncode == 0
    return snapshot(engine)


def declaration_outcome(connection) -> dict:
    return {
        "declared": _rows(connection, """SELECT employer_id, contribution_year, person_id, wage_fen, base_fen, clamped
                                         FROM base_declaration"""),
        "drafts": _rows(connection, "SELECT employer_id FROM declaration_draft"),
        "submitted": _rows(connection, "SELECT object_id, detail FROM audit_event "
                                       "WHERE action = 'declaration.submitted'"),
    }


def test_a_declaration_import_killed_at_any_point_and_sent_again_is_saved_exactly_once(db, engine, database_url):
    year = declarations.year_choices(clock.today())[0]
    employer = factories.employer(db)
    operator = factories.operator(db, employer_row=employer)
    people = [factories.person(db, name=name, birth=date(1980 + i, 5, 1)) for i, name in enumerate(("王一", "李二", "张三"))]
    for person in people:
        spell(db, person=person, employer=employer, start=date(2024, 1, 1))
    # An earlier declaration for the year, which the import replaces.
    db.add(BaseDeclaration(employer_id=employer.id, contribution_year=year, person_id=people[0].id, wage_fen=500000,
                           base_fen=500000, created_at=NOW))
    wages = ("8000", "3000", "45000")
    csv = "\n".join(["公民身份号码,姓名,月工资", *(f"{p.id_number},{p.name},{w}" for p, w in zip(people, wages, strict=True))])
    sign_in = {"account_type": "employer", "username": operator.username, "password": factories.PASSWORD,
               "employer_code": employer.credit_code}
    actor = employer_actor(operator)
    db.commit()

    def declare(session):
        rows = [InputRow(row, p.id_number, p.name, w) for row, (p, w) in enumerate(zip(people, wages, strict=True), 2)]
        draft = declarations.prepare(session, actor=actor, year=year, rows=rows, source="csv", now=clock.now(),
                                     today=clock.today())
        declarations.confirm(session, actor=actor, token=draft.token, now=clock.now())

    expected = clean_run(engine, declaration_outcome, declare)
    assert len(expected["declared"]) == 3 and len(expected["submitted"]) == 1
    browser = httpx.Client(follow_redirects=False, timeout=60)
    servers: list[Server] = []

    def serve(crash_at: str = "") -> str:
        servers.append(Server(database_url, crash_at=crash_at))
        return servers[-1].url

    def upload(url: str):
        page = browser.get(f"{url}/employer/declarations?year={year}").text
        return browser.post(f"{url}/employer/declarations/upload",
                            data=form_fields(page, "/employer/declarations/upload") | {"year": str(year)},
                            files={"file": ("declaration.csv", csv.encode("utf-8"), "text/csv")})

    try:
        url = serve("declaration.draft")
        page = browser.get(f"{url}/login?account_type=employer").text
        assert browser.post(f"{url}/login", data=form_fields(page, "/login") | sign_in).status_code == 303
        signed_in = settled(engine, database_url)
        with pytest.raises(httpx.TransportError):
            upload(url)  # killed while keeping the checked file as a draft
        assert servers[-1].killed() and snapshot(engine) == signed_in

        url = serve("declaration.replaced")
        preview_path = upload(url).headers["location"]
        confirm = form_fields(browser.get(url + preview_path).text, preview_path)
        uploaded = settled(engine, database_url)
        for point in ("declaration.replaced", "declaration.saved"):
            with pytest.raises(httpx.TransportError):
                browser.post(url + preview_path, data=confirm)  # the employer confirms; the server dies
            assert servers[-1].killed() and snapshot(engine) == uploaded, point
            url = serve("declaration.saved" if point == "declaration.replaced" else
                        "committed:portal.web.employer.declarations.confirm")
        with pytest.raises(httpx.TransportError):
            browser.post(url + preview_path, data=confirm)  # saved, but the server dies before answering
        assert servers[-1].killed()
        assert outcome_now(engine, declaration_outcome) == expected

        url = serve()
        again = browser.post(url + preview_path, data=confirm)  # the browser sends the same form once more
        assert again.status_code in (303, 404), again.status_code
        assert outcome_now(engine, declaration_outcome) == expected
    finally:
        browser.close()
        for server in servers:
            server.stop()
    assert portal_command(database_url, "audit", "seal").returncode == 0
    verified = portal_command(database_url, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout and "not sealed" not in verified.stdout
