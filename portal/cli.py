"""The ``portal`` command: database, demo data, staff accounts, audit and policy tools."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from portal import clock


def _settings():
    from portal.settings import from_environment

    return from_environment()


def _sessionmaker():
    from portal import faults
    from portal.db import make_engine, make_sessionmaker

    settings = _settings()
    faults.arm(settings.crash_at)
    return make_sessionmaker(make_engine(settings.database_url))


def cmd_db_upgrade(args) -> int:
    from portal.migrate import upgrade

    upgrade(_settings().database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_db_revision(args) -> int:
    from portal.migrate import revision

    revision(_settings().database_url, args.message, args.rev_id)
    return 0


def cmd_db_backup(args) -> int:
    import time

    from portal.backup import BackupError, backup

    started = time.monotonic()
    try:
        size = backup(_settings().database_url, args.file)
    except BackupError as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    print(f"backed up to {args.file} ({size} bytes) in {time.monotonic() - started:.2f} s")
    return 0


def cmd_db_restore(args) -> int:
    import time

    from portal.backup import BackupError, restore

    started = time.monotonic()
    try:
        restore(_settings().database_url, args.file, force=args.force)
    except BackupError as error:
        print(f"restore refused: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.file} in {time.monotonic() - started:.2f} s; check it with: portal audit verify")
    return 0


def cmd_seed(args) -> int:
    from portal.db import transaction
    from portal.devtools import demo

    if not args.demo:
        print("nothing to seed: pass --demo", file=sys.stderr)
        return 2
    with transaction(_sessionmaker()) as session:
        created = demo.seed(session=session, now=clock.now(), today=clock.today())
    if args.json:
        print(json.dumps([account.as_json() for account in created], ensure_ascii=False, indent=2))
    else:
        print(f"Demo accounts (password for all: {demo.DEMO_PASSWORD})")
        for account in created:
            extra = f"  credit code {account.employer_code}" if account.employer_code else ""
            extra += f"  TOTP secret {account.totp_secret}" if account.totp_secret else ""
            print(f"  {account.kind:<8} {account.label:<10} {account.username}{extra}")
        print("Staff one-time codes: portal staff otp STAFF_NUMBER (development only)")
    return 0


def cmd_staff_create(args) -> int:
    from portal.auth.principal import SYSTEM
    from portal.auth.totp import provisioning_uri
    from portal.db import transaction
    from portal.errors import ValidationFailed
    from portal.services import accounts

    password = args.password or getpass.getpass("Password for the new staff member: ")
    try:
        with transaction(_sessionmaker()) as session:
            staff = accounts.create_staff(session, actor=SYSTEM, staff_number=args.staff_number,
                                          name=args.name, roles=args.role, password=password, now=clock.now(),
                                          region=args.region)
    except ValidationFailed as error:
        for field, message in error.errors.items():
            print(f"{field}: {message.text}", file=sys.stderr)
        return 2
    print(f"created staff {staff.staff_number} with roles {staff.roles}")
    print(f"TOTP secret (enrol it in an authenticator app now; it is not shown again): {staff.totp_secret}")
    print(provisioning_uri(staff.totp_secret, staff.staff_number))
    return 0


def cmd_staff_roles(args) -> int:
    from portal.auth.principal import SYSTEM
    from portal.db import transaction
    from portal.services import accounts

    with transaction(_sessionmaker()) as session:
        staff = accounts.set_staff_roles(session, actor=SYSTEM, staff_number=args.staff_number,
                                         roles=args.role, now=clock.now())
    print(f"{staff.staff_number}: {staff.roles}")
    return 0


def cmd_staff_otp(args) -> int:
    """Development aid: the current code for a staff member, as their authenticator app would show."""
    from sqlmodel import select

    from portal.auth.totp import code_at
    from portal.models import StaffMember

    if _settings().production:
        print("refused: not available in production", file=sys.stderr)
        return 2
    with _sessionmaker()() as session:
        staff = session.exec(select(StaffMember).where(StaffMember.staff_number == args.staff_number)).first()
        if staff is None:
            print("no such staff member", file=sys.stderr)
            return 1
        print(code_at(staff.totp_secret, clock.now()))
    return 0


def cmd_identity_letter(args) -> int:
    """An activation code for a person whose identity card was checked (a counter without the web page)."""
    from portal.auth.principal import SYSTEM
    from portal.db import transaction
    from portal.errors import ValidationFailed
    from portal.services import identity

    try:
        with transaction(_sessionmaker()) as session:
            letter = identity.issue_letter(session, settings=_settings(), actor=SYSTEM, id_number=args.id_number,
                                           mobile=args.mobile or "", now=clock.now(), today=clock.today())
            name, expires = letter.person.name, letter.expires_at
    except ValidationFailed as error:
        for field, message in error.errors.items():
            print(f"{field}: {message.text % message.params if message.params else message.text}", file=sys.stderr)
        return 2
    print(f"Activation code for {name}: {letter.code}")
    print(f"Valid once, until {expires.date().isoformat()}. Enter it on the portal when asked to prove the account.")
    return 0


def cmd_audit_verify(args) -> int:
    from portal import audit

    with _sessionmaker()() as session:
        report = audit.verify(session=session)
    waiting = f"; {report.unsealed} newer events not sealed yet (portal audit seal)" if report.unsealed else ""
    if report.intact:
        print(f"audit log intact: {report.events} events{waiting}")
        return 0
    if report.missing_tail:
        print(f"audit log broken at event {report.first_broken}: sealed events are missing from the end "
              f"(after {report.events} intact events){waiting}")
    else:
        print(f"audit log broken at event {report.first_broken} (after {report.events} intact events){waiting}")
    return 1


def cmd_audit_seal(args) -> int:
    """Links every committed, unsealed audit event into the chain (idempotent; run it from cron)."""
    from portal import audit

    sealed = audit.seal_all(_sessionmaker())
    print(f"sealed {sealed} audit event(s)")
    return 0


def cmd_queue_auto(args) -> int:
    """Runs the automatic checks and approvals, closes decided cases and settles provisional due dates."""
    from portal.db import transaction
    from portal.queue import service
    from portal.services import transfers

    with transaction(_sessionmaker()) as session:
        counts = service.run_auto(session, now=clock.now())
    with transaction(_sessionmaker()) as session:
        overdue = transfers.flag_overdue(session, now=clock.now())
    print(f"checked {counts['checked']} case(s), approved {counts['approved']} automatically, "
          f"closed {counts['closed']} decided case(s), recomputed {counts['due_recomputed']} provisional due date(s), "
          f"flagged {overdue} transfer step(s) past their time limit")
    return 0


def cmd_credit_recompute(args) -> int:
    """Every subject's credit score and grade, set-based (idempotent)."""
    from portal.db import transaction
    from portal.services import credit

    now = clock.now()
    with transaction(_sessionmaker()) as session:
        rated = credit.recompute(session, on=credit.china_today(now), now=now)
    print(f"rated {rated} subject(s)")
    return 0


def cmd_credit_sample(args) -> int:
    """Draws the spot checks of approved automatic or committed cases (each case at most once)."""
    from portal.db import transaction
    from portal.services import supervision

    with transaction(_sessionmaker()) as session:
        opened = supervision.sample(session, now=clock.now())
    print(f"opened {opened} spot check(s)")
    return 0


def cmd_payroll_run(args) -> int:
    """Pays every pensioner in payment for the month (set-based, idempotent) and writes one CSV per bank."""
    from pathlib import Path

    from portal.db import transaction
    from portal.policy.dates import parse_month
    from portal.services import payroll

    month = parse_month(args.month)
    with transaction(_sessionmaker()) as session:
        run = payroll.run(session, month=month, now=clock.now())
        files = payroll.payment_files(session, month=month)
    out = Path(args.out) / args.month
    out.mkdir(parents=True, exist_ok=True)
    for bank, body in files.items():
        (out / f"{bank}.csv").write_text(body, encoding="utf-8")
    print(f"paid {run.paid} month(s), {run.amount} yuan; payment files in {out}: {', '.join(sorted(files)) or 'none'}")
    for region, (count, amount) in run.totals.items():
        print(f"  {region}: {count} payment(s), {amount} yuan")
    return 0


def cmd_payroll_adjust(args) -> int:
    """Writes the yearly adjustment for everyone retired by the end of the year before (idempotent)."""
    from portal.db import transaction
    from portal.services import payroll

    with transaction(_sessionmaker()) as session:
        done = payroll.adjust(session, year=args.year, now=clock.now())
    print(f"adjusted {done.awards} pension(s) from {args.year}-01 by {done.amount} yuan a month in all"
          + (" (assumed: the parameter is low confidence)" if done.assumed else ""))
    return 0


def cmd_pension_recompute(args) -> int:
    """Recomputes provisional awards with the parameters as they are now; differences go with the next payroll."""
    from portal.db import transaction
    from portal.services import claims

    with transaction(_sessionmaker()) as session:
        done = claims.recompute_provisional(session, now=clock.now())
    print(f"recomputed {len(done)} award(s)")
    for row in done:
        print(f"  person {row.person_id}: {row.old} -> {row.new}, difference {row.difference} for {row.months_paid} month(s)")
    return 0


def cmd_certification_remind(args) -> int:
    """Sends the 30- and 7-day certification reminders due today (each once; cron)."""
    from portal.db import transaction
    from portal.services import certification

    with transaction(_sessionmaker()) as session:
        sent = certification.send_reminders(session, today=clock.today(), now=clock.now())
    print(f"sent {sent} reminder(s)")
    return 0


def cmd_monitoring_refresh(args) -> int:
    """Recomputes the stored monitoring figures of the months whose records changed, then the anomaly flags
    (idempotent; cron)."""
    from portal.db import transaction
    from portal.services import anomalies, monitoring

    with transaction(_sessionmaker()) as session:
        report = monitoring.refresh(session, now=clock.now(), today=clock.today())
        flags = anomalies.refresh_flags(session, now=clock.now(), today=clock.today())
    done = report.recomputed
    months = f" ({done[0]:%Y-%m} to {done[-1]:%Y-%m})" if len(done) > 1 else f" ({done[0]:%Y-%m})" if done else ""
    print(f"recomputed {len(done)} month(s){months}; {report.unchanged} unchanged; "
          f"forgot {len(report.removed)} month(s) with no records left; anomalies: {flags.added} new, "
          f"{flags.removed} gone, {flags.kept} kept")
    return 0


def cmd_db_purge_keys(args) -> int:
    """Forgets the answers kept for repeated form submissions once they are a day old (cron, any interval)."""
    from portal.db import transaction
    from portal.services import idempotency

    with transaction(_sessionmaker()) as session:
        forgotten = idempotency.purge_expired(session, now=clock.now())
    print(f"forgot {forgotten} expired form key(s)")
    return 0


def cmd_billing_run(args) -> int:
    from portal.db import transaction
    from portal.policy.dates import parse_month
    from portal.services import billing

    try:
        month = parse_month(args.month)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    with transaction(_sessionmaker()) as session:
        report = billing.run_billing(session, month=month, now=clock.now())
        arrears = billing.mark_arrears(session, today=clock.today())
    print(f"billed {args.month}: {report.employee_months} employee months, {report.flexible_months} flexible "
          f"months, {report.bills} new bills, {report.lines} new lines; {report.supplementary} supplementary bills "
          f"(their payers were told); {arrears} bills fell into arrears")
    return 0


def cmd_accounts_credit_interest(args) -> int:
    from portal.db import transaction
    from portal.services.personal_accounts import credit_interest

    with transaction(_sessionmaker()) as session:
        run = credit_interest(session, year=args.year, now=clock.now())
    note = " (rate provisional)" if run.provisional else ""
    print(f"credited {args.year} interest at {run.rate}{note}: {run.accounts} accounts written or changed")
    return 0


def cmd_synth(args) -> int:
    from portal.devtools import synth

    factory = _sessionmaker()
    if args.discard:
        print(synth.discard(factory) or "no synthetic load was pending")
        return 0
    try:
        report = synth.load(factory, persons=args.persons, seed=args.seed, today=clock.today(), now=clock.now(),
                            chunk=args.chunk, progress=_SynthProgress())
    except synth.SynthPending as pending:
        print(f"refused: {pending}", file=sys.stderr)
        return 1
    print(f"synthetic province: {report.persons} persons, {report.employers} employers, {report.months} "
          f"insured months, {report.account_years} account years in {report.seconds} s"
          + (f" (resumed after {report.resumed_after} persons)" if report.resumed_after else ""))
    for phase, seconds in report.phases:
        print(f"  {phase:<26} {seconds} s")
    with factory() as session:
        for name, size in synth.disk_use(session.connection()):
            print(f"  disk: {name:<24} {size / 2**20:>10,.1f} MB")
    return 0


class _SynthProgress:
    """A plain progress line on standard error (rewritten in place on a terminal); the time left is estimated
    from this run's pace (a resumed load starts from the persons already loaded)."""

    def __init__(self) -> None:
        self.first: int | None = None

    def __call__(self, done: int, total: int, months: int, seconds: float) -> None:
        if self.first is None:
            self.first = done
        share = done / total if total else 1
        pace = (done - self.first) / seconds if seconds > 0 else 0
        left = f", about {(total - done) / pace:,.0f} s left" if pace and done < total else ""
        line = (f"synth [{'#' * int(30 * share):<30}] {done:,}/{total:,} persons, {months:,} months, "
                f"{seconds:,.0f} s{left}")
        terminal = sys.stderr.isatty()
        end = "\n" if done == total or not terminal else ""
        print(("\r" if terminal else "") + line, end=end, file=sys.stderr, flush=True)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to the running portal; any HTTP status is an answer, not an error."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - dev tool, URL given by the developer
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        raise PortalUnreachable(str(getattr(error, "reason", error))) from None


class PortalUnreachable(Exception):
    """Nothing answered at the portal's address (the server is not running, or runs elsewhere)."""


def _portal_url() -> str:
    """Where `make run` serves: PORTAL_HOST and PORTAL_PORT, as the README documents."""
    host = os.environ.get("PORTAL_HOST", "127.0.0.1")
    return f"http://{host}:{os.environ.get('PORTAL_PORT', '8000')}"


def cmd_dev_pay(args) -> int:
    """Development aid: play the tax collector confirming a payment order, signed like the real one."""
    import uuid

    from sqlmodel import select

    from portal.db import transaction
    from portal.errors import PortalError
    from portal.models import PaymentOrder
    from portal.policy.money import from_fen
    from portal.services import billing, payments

    settings = _settings()
    if settings.production:
        print("refused: not available in production", file=sys.stderr)
        return 2
    sessionmaker = _sessionmaker()
    with sessionmaker() as session:
        order = session.exec(select(PaymentOrder).where(PaymentOrder.reference == args.reference)).first()
        if order is None:
            print(f"no payment order {args.reference}", file=sys.stderr)
            return 1
        amount = from_fen(order.amount_fen)
    paid_at = clock.now().astimezone(clock.CHINA)
    external_id = args.external_id or f"DEV-{uuid.uuid4().hex[:16].upper()}"
    body = payments.callback_body(reference=args.reference, amount=amount, external_id=external_id,
                                  paid_at=paid_at.isoformat())
    if args.direct:
        try:
            with transaction(sessionmaker) as session:
                result = billing.apply_payment(session, reference=args.reference, amount=amount,
                                               external_id=external_id, paid_at=paid_at)
        except PortalError as error:
            print(f"refused: {error.message.text}", file=sys.stderr)
            return 1
        print(f"{args.reference}: {'duplicate' if result.duplicate else 'paid'} {amount} (transaction {external_id})")
        return 0
    url = (args.url or _portal_url()).rstrip("/")
    try:
        status, text = _post(url + "/payments/callback", body,
                             {"Content-Type": "application/json",
                              "X-Signature": payments.sign(settings.payment_secret, body)})
    except PortalUnreachable as error:
        print(f"cannot reach the portal at {url} ({error}). Is it running? Start it with `make run`, give its "
              f"address with --url (or PORTAL_HOST / PORTAL_PORT), or apply the payment in-process with --direct.",
              file=sys.stderr)
        return 3
    print(f"{args.reference}: HTTP {status} {text} (amount {amount}, transaction {external_id})")
    return 0 if status == 200 else 1


def cmd_dev_province(args) -> int:
    """Development aid: play another province's pension system in a transfer (signed like the real one)."""
    from decimal import Decimal, InvalidOperation

    from portal.devtools import province

    settings = _settings()
    if settings.production:
        print("refused: not available in production", file=sys.stderr)
        return 2
    try:
        base, off_by = Decimal(args.base), Decimal(args.off_by)
    except InvalidOperation:
        print("--base and --off-by are amounts in yuan, for example 3000.00", file=sys.stderr)
        return 2
    try:
        return province.send(what=args.what, target=args.target, sender=args.sender, base=base, off_by=off_by,
                             settings=settings, sessionmaker=_sessionmaker(), url=args.url or _portal_url(),
                             direct=args.direct, post=_post, err=lambda text: print(text, file=sys.stderr))
    except PortalUnreachable as error:
        print(f"cannot reach the portal ({error}). Is it running? Start it with `make run`, give its address with "
              f"--url, or deliver in-process with --direct.", file=sys.stderr)
        return 3


def cmd_transfers_deliver(args) -> int:
    """Signs and sends the messages queued for other provinces (cron); the ones without an address stay queued."""
    from portal.db import transaction
    from portal.services import transfers

    with transaction(_sessionmaker()) as session:
        done = transfers.deliver_outbox(session, settings=_settings(), now=clock.now(), post=_post)
    print(f"delivered {done.delivered} message(s) to other provinces, {done.failed} failed (retried on the next run), "
          f"{done.waiting} waiting for an address (PORTAL_PROVINCE_URLS)")
    return 0 if not done.failed else 1


def cmd_policy(args) -> int:
    from portal.policy import cli as policy_cli

    return policy_cli.main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Jilin pension portal administration")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    rev = db.add_parser("revision", help="generate a migration from model changes")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--rev-id", required=True, help="the next number, e.g. 0002")
    rev.set_defaults(func=cmd_db_revision)
    dump = db.add_parser("backup", help="write the whole database to a file (pg_dump, or SQLite's backup API)")
    dump.add_argument("file")
    dump.set_defaults(func=cmd_db_backup)
    load = db.add_parser("restore", help="load a backup into an empty database")
    load.add_argument("file")
    load.add_argument("--force", action="store_true", help="replace everything in a database that is not empty")
    load.set_defaults(func=cmd_db_restore)
    db.add_parser("purge-keys", help="forget the answers kept for repeated form submissions after a day (cron)"
                  ).set_defaults(func=cmd_db_purge_keys)

    seed = commands.add_parser("seed", help="create demo data (idempotent)")
    seed.add_argument("--demo", action="store_true")
    seed.add_argument("--json", action="store_true")
    seed.set_defaults(func=cmd_seed)

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="staff_command", required=True)
    create = staff.add_parser("create", help="create a staff account with a TOTP second factor")
    create.add_argument("staff_number")
    create.add_argument("--name", required=True)
    create.add_argument("--role", action="append", required=True,
                        choices=["handler", "reviewer", "supervisor", "admin"])
    create.add_argument("--region", default="220000")
    create.add_argument("--password", help="omit to be asked without echo")
    create.set_defaults(func=cmd_staff_create)
    roles = staff.add_parser("roles", help="replace a staff member's roles")
    roles.add_argument("staff_number")
    roles.add_argument("--role", action="append", required=True,
                       choices=["handler", "reviewer", "supervisor", "admin"])
    roles.set_defaults(func=cmd_staff_roles)
    otp = staff.add_parser("otp", help="show the current one-time code (development only)")
    otp.add_argument("staff_number")
    otp.set_defaults(func=cmd_staff_otp)

    identity_cmd = commands.add_parser("identity", help="proving that online accounts belong to their persons"
                                       ).add_subparsers(dest="identity_command", required=True)
    letter = identity_cmd.add_parser("letter", help="print a single-use activation code for a person on record")
    letter.add_argument("id_number")
    letter.add_argument("--mobile", help="also record this mobile number as the person's number on record")
    letter.set_defaults(func=cmd_identity_letter)

    audit = commands.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)
    audit.add_parser("seal", help="link new events into the hash chain (idempotent)").set_defaults(
        func=cmd_audit_seal)

    queue = commands.add_parser("queue", help="the handling queue").add_subparsers(dest="queue_command",
                                                                                 required=True)
    queue.add_parser("auto", help="automatic checks, closing decided cases, settling provisional due dates (idempotent)"
                     ).set_defaults(func=cmd_queue_auto)

    credit_cmd = commands.add_parser("credit", help="credit ratings and spot checks").add_subparsers(
        dest="credit_command", required=True)
    credit_cmd.add_parser("recompute", help="every subject's score and grade, set-based (idempotent; cron)"
                          ).set_defaults(func=cmd_credit_recompute)
    credit_cmd.add_parser("sample", help="draw spot checks of automatic and committed approvals (cron)"
                          ).set_defaults(func=cmd_credit_sample)

    payroll_cmd = commands.add_parser("payroll", help="the monthly pension payroll and the yearly adjustment"
                                      ).add_subparsers(dest="payroll_command", required=True)
    payroll_run = payroll_cmd.add_parser("run", help="pay the month (idempotent); one CSV per bank")
    payroll_run.add_argument("--month", required=True, help="YYYY-MM")
    payroll_run.add_argument("--out", default="var/payroll", help="where the payment files go")
    payroll_run.set_defaults(func=cmd_payroll_run)
    payroll_adjust = payroll_cmd.add_parser("adjust", help="the yearly adjustment (idempotent)")
    payroll_adjust.add_argument("--year", type=int, required=True)
    payroll_adjust.set_defaults(func=cmd_payroll_adjust)
    pension_cmd = commands.add_parser("pension", help="pension awards").add_subparsers(dest="pension_command",
                                                                                       required=True)
    pension_cmd.add_parser("recompute", help="recompute provisional awards").set_defaults(func=cmd_pension_recompute)
    certification_cmd = commands.add_parser("certification", help="life certification").add_subparsers(
        dest="certification_command", required=True)
    certification_cmd.add_parser("remind", help="send the reminders due today").set_defaults(
        func=cmd_certification_remind)
    transfers_cmd = commands.add_parser("transfers", help="transfers between provinces").add_subparsers(
        dest="transfers_command", required=True)
    transfers_cmd.add_parser("deliver", help="sign and send the messages queued for other provinces (cron)"
                             ).set_defaults(func=cmd_transfers_deliver)

    monitoring_cmd = commands.add_parser("monitoring", help="figures for supervisors").add_subparsers(
        dest="monitoring_command", required=True)
    monitoring_cmd.add_parser("refresh", help="recompute the months whose records changed (idempotent)"
                              ).set_defaults(func=cmd_monitoring_refresh)

    billing_cmd = commands.add_parser("billing", help="monthly billing").add_subparsers(
        dest="billing_command", required=True)
    run = billing_cmd.add_parser("run", help="bill every open spell and flexible enrolment for a month (idempotent)")
    run.add_argument("--month", required=True, help="YYYY-MM")
    run.set_defaults(func=cmd_billing_run)

    accounts_cmd = commands.add_parser("accounts", help="personal accounts").add_subparsers(
        dest="accounts_command", required=True)
    interest = accounts_cmd.add_parser("credit-interest", help="credit a year's interest to every account (idempotent)")
    interest.add_argument("--year", required=True, type=int)
    interest.set_defaults(func=cmd_accounts_credit_interest)

    synth = commands.add_parser("synth", help="add a synthetic province (demo and benchmarks)")
    synth.add_argument("--persons", type=int, default=10000)
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--chunk", type=int, default=100_000,
                       help="persons committed together; a stopped load rerun with the same options resumes")
    synth.add_argument("--discard", action="store_true",
                       help="remove what a stopped load wrote instead of finishing it")
    synth.set_defaults(func=cmd_synth)

    dev = commands.add_parser("dev", help="development aids").add_subparsers(dest="dev_command", required=True)
    pay = dev.add_parser("pay", help="play the tax collector: confirm a payment order (development only)")
    pay.add_argument("reference")
    pay.add_argument("--url", help="the running portal (default: http://PORTAL_HOST:PORTAL_PORT, 127.0.0.1:8000)")
    pay.add_argument("--direct", action="store_true", help="apply the payment in-process instead of over HTTP")
    pay.add_argument("--external-id", help="the collector's transaction number (default: a new one)")
    pay.set_defaults(func=cmd_dev_pay)
    province_cmd = dev.add_parser("province", help="play another province in a transfer (development only)"
                                  ).add_subparsers(dest="province_command", required=True)
    send = province_cmd.add_parser("send", help="send Jilin a signed message: the funds and record of a transfer "
                                   "in (transfer ZY…), a contact letter for a person (contact-letter ID_NUMBER "
                                   "--from CODE), or the merge of a transfer out (merged ZY…)")
    send.add_argument("what", choices=("transfer", "contact-letter", "merged"))
    send.add_argument("target", help="the transfer number (ZY…), or the identity number for a contact letter")
    send.add_argument("--from", dest="sender", default="110000", help="the sending province of a contact letter")
    send.add_argument("--base", default="3000.00", help="the monthly base in the first year (rising 6%% a year)")
    send.add_argument("--off-by", default="0.00", help="add this to the pooled amount (to test a query)")
    send.add_argument("--url", help="the running portal (default: http://PORTAL_HOST:PORTAL_PORT)")
    send.add_argument("--direct", action="store_true", help="deliver in-process instead of over HTTP")
    send.set_defaults(func=cmd_dev_province)

    policy = commands.add_parser("policy", help="evaluate a policy rule: JSON in on stdin, JSON out",
                                 add_help=False)
    policy.add_argument("rest", nargs=argparse.REMAINDER)
    policy.set_defaults(func=cmd_policy)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from portal import assembly  # after parsing, so `--help` stays quick

    assembly.assemble()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
