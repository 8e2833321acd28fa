"""What a transfer moves as money: the personal account received joins the person's Jilin account on the merge
(the yearly interest run credits it with the year's contributions, the record shows where it came from), and
what Jilin sends out is a payment order of the provincial fund that the other province's merge settles."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlmodel import select

from portal.devtools import province
from portal.errors import NotFound
from portal.models import ContributionMonth, PaymentOrder, PersonalAccountYear, ProvinceMessage, Transfer
from portal.policy.money import to_fen
from portal.services import billing, personal_accounts, records, transfers
from tests import factories
from tests.helpers import id_number_of, sign_in_person
from tests.transfers.support import NOW, applicant, apply, issue_letter


def merged_transfer(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    answer = province.deliver_directly(db, province.transfer_message(db, reference=transfer.reference, now=NOW),
                                       now=NOW)
    assert answer["status"] == "merged"
    db.refresh(transfer)
    return account, transfer


def received_account(transfer) -> Decimal:
    return Decimal(json.loads(transfer.amounts_json)["received"]["personal_account"])


def test_the_personal_account_received_is_credited_on_the_merge_with_where_it_came_from(db):
    account, transfer = merged_transfer(db)
    amount = received_account(transfer)
    assert amount > 0
    assert (transfer.account_credit_fen, transfer.credited_on) == (to_fen(amount), date(2026, 11, 30))
    record = records.build_record(db, person=db.get(factories.Person, account.person_id), today=date(2026, 11, 30))
    [credit] = record.account_transfers
    assert (credit.province, credit.start, credit.end, credit.reference) == (
        "110000", date(2008, 3, 1), date(2015, 6, 1), transfer.reference)
    assert credit.amount == amount
    assert record.balance_to_date == amount  # no Jilin year credited yet: the account is what was brought


def test_a_queried_transfer_credits_nothing_to_the_account(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    wrong = province.transfer_message(db, reference=transfer.reference, now=NOW, off_by=Decimal("-1.00"))
    assert province.deliver_directly(db, wrong, now=NOW)["status"] == "query"
    db.refresh(transfer)
    assert transfer.account_credit_fen == 0 and transfer.credited_on is None
    assert personal_accounts.transferred_credits(db, person_id=account.person_id) == []


def test_the_merge_years_interest_run_counts_the_credit_with_interest_from_the_month_of_the_merge(db):
    account, transfer = merged_transfer(db)
    fen = transfer.account_credit_fen
    run = personal_accounts.credit_interest(db, year=2026, now=NOW + timedelta(days=40))
    assert run.accounts == 1
    row = db.exec(select(PersonalAccountYear).where(PersonalAccountYear.person_id == account.person_id)).one()
    # Credited in November: 13 - 11 = 2 months of the year's rate, rounded half up to the fen.
    interest = (Decimal(fen) * 2 * run.rate / 12).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert (row.opening_balance_fen, row.contributions_fen, row.interest_fen) == (0, fen, int(interest))
    assert row.closing_balance_fen == fen + int(interest)
    assert personal_accounts.credit_interest(db, year=2026, now=NOW + timedelta(days=41)).accounts == 0
    [year] = personal_accounts.account_years(db, person_id=account.person_id)
    assert (year.transferred_in, year.contributions) == (received_account(transfer), Decimal("0.00"))
    record = records.build_record(db, person=db.get(factories.Person, account.person_id), today=date(2027, 1, 10))
    assert record.balance_to_date == year.closing_balance  # counted once, in the credited year


def test_a_later_transfer_out_sends_the_account_brought_in_with_the_jilin_months(db):
    account, transfer = merged_transfer(db)
    db.add(ContributionMonth(person_id=account.person_id, month=date(2026, 10, 1), base_fen=500000,
                             individual_part_fen=40000, personal_account_fen=40000, source="flexible_payment",
                             status="paid", created_at=NOW))
    db.flush()
    figures = transfers.outgoing_figures(db, person_id=account.person_id)
    assert figures.balance == received_account(transfer) + Decimal("400.00")


def test_the_records_page_shows_the_account_brought_with_its_source_in_both_languages(client, db, frozen_clock):
    frozen_clock(NOW)
    account, transfer = merged_transfer(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    english = client.get("/me/records?lang=en").text
    assert 'id="account-transfers"' in english
    assert f"transferred from 110000 Beijing, March 2008 to June 2015 (transfer {transfer.reference})" in english
    chinese = client.get("/me/records?lang=zh").text
    assert "从110000 北京市转入" in chinese and "转移带入的个人账户" in chinese


# --- out of Jilin: the payment order -------------------------------------------------------------------------------

def transfer_out(db):
    person = factories.person(db)
    for n in range(12):
        db.add(ContributionMonth(person_id=person.id, month=date(2025, n + 1, 1), base_fen=500000,
                                 individual_part_fen=40000, personal_account_fen=40000, source="flexible_payment",
                                 status="paid", created_at=NOW))
    db.flush()
    answer = province.deliver_directly(db, province.contact_letter(db, province="310000", id_number=person.id_number,
                                                                   now=NOW), now=NOW)
    transfer = db.exec(select(Transfer).where(Transfer.reference == answer["transfer"])).one()
    issue_letter(db, transfer)
    db.refresh(transfer)
    return transfer


def test_what_jilin_sends_is_a_payment_order_of_the_fund_due_by_the_merges_time_limit(db):
    transfer = transfer_out(db)
    order = db.get(PaymentOrder, transfer.payment_order_id)
    assert (order.payer_kind, order.status, order.amount_fen, order.late_fee_fen) == ("fund", "pending", 1200000, 0)
    assert order.pay_by == transfers.legs_of(db, transfer=transfer)["merge"].due_on
    assert json.loads(transfer.amounts_json)["payment"] == {"payee": "310000", "amount": "12000.00",
                                                            "reference": order.reference}
    sent = db.exec(select(ProvinceMessage).where(ProvinceMessage.kind == "transfer")).one()
    assert json.loads(sent.body)["payment"]["order"] == order.reference
    assert transfers.tracker(db, transfer=transfer, today=date(2026, 11, 30)).payment.status == "pending"


def test_the_tax_collectors_callback_cannot_confirm_a_payment_the_fund_makes(db):
    order = db.get(PaymentOrder, transfer_out(db).payment_order_id)
    with pytest.raises(NotFound):
        billing.apply_payment(db, reference=order.reference, amount=Decimal("12000.00"), external_id="TAX-1",
                              paid_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    assert order.status == "pending"


def test_the_other_provinces_merge_confirms_the_payment_arrived(db):
    transfer = transfer_out(db)
    later = NOW + timedelta(days=3)
    done = province.deliver_directly(db, province.merged(db, reference=transfer.reference, now=later), now=later)
    assert done["status"] == "completed"
    order = db.get(PaymentOrder, transfer.payment_order_id)
    assert (order.status, order.paid_at) == ("paid", later)
    view = transfers.tracker(db, transfer=transfer, today=date(2026, 12, 3)).payment
    assert (view.status, view.paid_on) == ("paid", date(2026, 12, 3))
