"""A synthetic province for the demo and the benchmarks (``portal synth --persons N --seed S``).

Employers in the nine prefecture-level units with valid credit codes; employees, flexible workers and
retirees with valid identity numbers and monthly histories from the month Jilin's personal accounts began.
Deterministic for a seed on an empty database (``random.Random(seed)``, integers only).

How it is built, quickly (no Python loop per month, no statement per row):
- employers, persons and spans (employment spells and flexible enrolments) are generated in Python, a chunk
  of persons at a time, and bulk-loaded (COPY on PostgreSQL, one executemany per table on SQLite);
- the monthly history is generated set-based: a helper table gets each (kind, index) in use its figures for
  every month (base and parts, rounded exactly as billing does, from each month's average wage, floor, cap
  and rates; a chunk adds only the indexes no earlier chunk used); one INSERT ... SELECT per chunk then joins
  the chunk's spans with it, giving each row an id from its span's block of ids instead of a sequence call;
- the personal accounts are built in Python from the same spans and month figures: each year's credits and
  monthly product come from prefix sums per span, and the years are chained with the integer formula of
  ``credit_interest`` (a test checks that crediting every year again changes nothing); a worker thread does
  this while the database writes the chunk's history.
Bulk-load settings: on SQLite a large page cache during each chunk, restored afterwards; on PostgreSQL the
loaded tables' foreign keys and secondary (non-partial) indexes, and the primary keys of the history and the
account years, are dropped by the first step and re-created (validated) by the last.

Two ways to run it, the same rows for the same seed: ``generate`` does it all in the caller's transaction
(tests, the demo, small provinces); ``load`` (``portal synth``) commits every chunk of persons together with a
progress record (``synth_progress``: the random generator's state and the next ids), so a load killed at any
point either resumes after its last committed chunk, drawing exactly what one run would have drawn, or is
removed whole with ``discard``. Committed chunks were chosen over a staging schema swapped in at the end: a
swap would write the 10^8 history rows twice (or need the live tables empty, with every foreign key
re-pointed), while a chunk costs one transaction and a resume loses at most one chunk's work.

``copy_baseline`` measures, in the same run, what PostgreSQL itself takes to COPY the same rows into copies of
the same tables and build their keys and indexes: the benchmark prints the synthetic load against it.

Synthetic assumptions (not policy): wages are the person's index (0.4-3.5) × the month's average wage; where
a parameter has no value yet for an early month, the average wage is extended backwards at the mean yearly
growth of the published series, the floor and cap are that average × the base-limit percents, and a rate
takes its first published value. These figures only shape demo data; billing and crediting use the policy.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    inspect,
    text,
)
from sqlalchemy.schema import CreateTable
from sqlmodel import Session

from portal.faults import crash_point
from portal.identifiers import make_credit_code, make_resident_id
from portal.models.types import UTCDateTime
from portal.policy.contribution_year import contribution_year
from portal.policy.dates import add_months, month_of
from portal.policy.errors import ParameterNotDefined, PolicyInputError
from portal.policy.money import rate_fraction, round_fen, to_fen
from portal.policy.parameters import param
from portal.policy.rules.retirement import retirement

# Prefecture-level units (GB/T 2260), a real district or city code in each for identity numbers, and a
# synthetic weight (share of employers and insured persons).
PREFECTURES = (
    ("220100", "长春", "220102", 35), ("220200", "吉林", "220202", 15), ("220300", "四平", "220302", 8),
    ("220400", "辽源", "220402", 4), ("220500", "通化", "220502", 7), ("220600", "白山", "220602", 5),
    ("220700", "松原", "220702", 10), ("220800", "白城", "220802", 6), ("222400", "延边", "222401", 10),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文朴"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅春雪飞鹏辉宇浩然凤兵林海峰波云燕晶欣雨婷博文佳琳宏东亮成昌德"
INDUSTRIES = ("机械制造", "汽车零部件", "商贸", "食品", "建筑工程", "物流", "医药", "信息技术", "农业发展", "化工",
              "物业服务", "餐饮管理", "木业", "旅游", "电力设备")
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")
PERSONS_PER_EMPLOYER = 20
KINDS = (("employee", 55), ("flexible", 15), ("retiree", 30))


@dataclass(frozen=True)
class SynthReport:
    persons: int
    employers: int
    spans: int
    months: int
    account_years: int
    seconds: str  # wall time, formatted
    phases: tuple[tuple[str, str], ...] = ()  # (phase, seconds) for the benchmark
    resumed_after: int = 0  # persons a stopped load had committed before this run resumed it


def _weighted(rng: random.Random, table) -> int:
    total = sum(row[-1] for row in table)
    pick = rng.randrange(total)
    for index, row in enumerate(table):
        pick -= row[-1]
        if pick < 0:
            return index
    return len(table) - 1


def _value_or_first(name: str, month: date):
    try:
        return param(name).at(month).value
    except ParameterNotDefined:
        return param(name).values()[0].value


@dataclass(frozen=True)
class _MonthRow:
    month: date
    seq: int
    average_fen: int
    floor_fen: int
    cap_fen: int
    rates: dict[str, tuple[int, int]]


def _average_wage(month: date) -> Decimal:
    try:
        return param("average_wage").at(month).value
    except ParameterNotDefined:
        values = param("average_wage").values()
        first, last = values[0], values[-1]
        years = last.effective_from.year - first.effective_from.year
        growth = (last.value / first.value) ** (Decimal(1) / years)
        back = first.effective_from.year - contribution_year(month)
        return round_fen(first.value / growth**back)


def _month_rows(first: date, last: date) -> list[_MonthRow]:
    rows = []
    month, seq = first, 0
    while month <= last:
        average = _average_wage(month)
        percent = param("base_limit_percent").at(month).value
        try:
            floor, cap = param("base_floor").at(month).value, param("base_cap").at(month).value
        except ParameterNotDefined:
            floor, cap = round_fen(average * percent["floor"] / 100), round_fen(average * percent["cap"] / 100)
        rates = {key: rate_fraction(_value_or_first(name, month)) for key, name in (
            ("er", "employer_rate"), ("ir", "individual_rate"), ("ar", "personal_account_rate"),
            ("ft", "flexible_total_rate"), ("fa", "flexible_personal_account_rate"))}
        rows.append(_MonthRow(month, seq, to_fen(average), to_fen(floor), to_fen(cap), rates))
        month, seq = add_months(month, 1), seq + 1
    return rows


@lru_cache(maxsize=8192)
def _statutory_month(birth_month: date, category: str) -> date:
    try:
        return retirement(birth_month, category).statutory_month
    except PolicyInputError:  # retired before the minimum-months table begins: the original age applies
        years = param("retirement_original_age").values()[-1].value[category]
        return add_months(birth_month, 12 * years)


_RATE_KEYS = ("er", "ir", "ar", "ft", "fa")
_META = MetaData()
# The helper tables live as long as one build: created by its first step, dropped by its last (on PostgreSQL
# unlogged: they are scratch, rebuilt from the progress record if a server crash empties them).
SPAN = Table(
    "synth_span", _META,
    Column("person_id", BigInteger), Column("employer_id", BigInteger), Column("kind", String(8)),
    Column("start_month", Date), Column("end_month", Date), Column("idx", Integer),
    Column("skip_mod", Integer), Column("skip_rem", Integer), Column("first_id", BigInteger),
    Column("start_seq", Integer), Column("end_seq", Integer),
    comment="the spans of the chunk being loaded; idx: the contribution index in thousandths (employer spans), "
            "the base percent (flexible ones); first_id: the id of the span's first month (ids are given, not "
            "drawn from the sequence row by row)",
)
BASE = Table(
    "synth_base", _META,
    Column("kind", String(8), primary_key=True), Column("idx", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True), Column("month", Date), Column("base", BigInteger),
    Column("er", BigInteger), Column("ir", BigInteger), Column("ar", BigInteger),
    sqlite_with_rowid=False,
)
MONTH = Table(
    "synth_month", _META,
    Column("month", Date, primary_key=True), Column("seq", Integer), Column("avg_fen", BigInteger),
    Column("floor_fen", BigInteger), Column("cap_fen", BigInteger), Column("floor_pct", Integer),
    *[Column(f"{key}_{part}", BigInteger) for key in _RATE_KEYS for part in ("n", "d")],
)
_HELPERS = (SPAN, BASE, MONTH)
PROGRESS_TABLE = "synth_progress"


def _round(expr: str, rate: str) -> str:
    return f"((2 * ({expr}) * x.{rate}_n + x.{rate}_d) / (2 * x.{rate}_d))"


_RATES = ", ".join(f"m.{key}_{part} AS {key}_{part}" for key in _RATE_KEYS for part in "nd")

# Every (kind, index) in use gets its month figures once, for every month: base and parts rounded exactly as
# billing does. A few thousand indexes × the months is a small fraction of the millions of history rows, which
# then only copy them (the per-row arithmetic was most of the history's time). A chunk adds only the indexes
# no earlier chunk used.
_MONTH_FIGURES = f"""
INSERT INTO synth_base (kind, idx, seq, month, base, er, ir, ar)
SELECT x.kind, x.idx, x.seq, x.month, x.base,
       CASE WHEN x.kind = 'employer' THEN {_round("x.base", "er")} ELSE 0 END,
       CASE WHEN x.kind = 'employer' THEN {_round("x.base", "ir")} ELSE {_round("x.base", "ft")} END,
       CASE WHEN x.kind = 'employer' THEN {_round("x.base", "ar")} ELSE {_round("x.base", "fa")} END
FROM (SELECT k.kind AS kind, k.idx AS idx, m.seq AS seq, m.month AS month, {_RATES},
             CASE WHEN k.kind = 'flexible' THEN (2 * m.floor_fen * k.idx + m.floor_pct) / (2 * m.floor_pct)
                  WHEN (m.avg_fen * k.idx + 500) / 1000 < m.floor_fen THEN m.floor_fen
                  WHEN (m.avg_fen * k.idx + 500) / 1000 > m.cap_fen THEN m.cap_fen
                  ELSE (m.avg_fen * k.idx + 500) / 1000 END AS base
      FROM (SELECT DISTINCT s.kind AS kind, s.idx AS idx FROM synth_span s
            WHERE NOT EXISTS (SELECT 1 FROM synth_base b WHERE b.kind = s.kind AND b.idx = s.idx)) k
      CROSS JOIN synth_month m) x
"""  # noqa: S608 - constant fragments

# Spans drive the join (CROSS JOIN keeps SQLite from scanning every span for every month); spans are stored
# in person order and do not overlap, so rows arrive in (person, month) order, kind to the unique index.
_HISTORY = """
INSERT INTO contribution_month (id, person_id, month, base_fen, employer_part_fen, individual_part_fen,
                                personal_account_fen, source, status, employer_id, bill_id, created_at)
SELECT s.first_id + b.seq - s.start_seq, s.person_id, b.month, b.base, b.er, b.ir, b.ar,
       CASE WHEN s.kind = 'employer' THEN 'employer_filing' ELSE 'flexible_payment' END, 'paid', s.employer_id,
       NULL, :now
FROM synth_span s CROSS JOIN synth_base b
WHERE b.kind = s.kind AND b.idx = s.idx AND b.seq >= s.start_seq AND b.seq <= s.end_seq
  AND (s.skip_mod = 0 OR (b.seq + s.skip_rem) % s.skip_mod <> 0)
"""


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _index(rng: random.Random) -> int:
    """A contribution index in thousandths: mostly 0.4-1.6, a tail of high earners."""
    value = 400 + rng.randint(0, 600) + rng.randint(0, 600)
    if rng.randrange(12) == 0:
        value += rng.randint(0, 2000)
    return value


def _next_id(connection, table: str) -> int:
    return (connection.execute(text(f"SELECT MAX(id) FROM {table}")).scalar() or 0) + 1  # noqa: S608


# --- One build: its context, its state, its steps ----------------------------------------------------------

CHUNK_PERSONS = 100_000  # persons a chunk: a resumed load redoes at most this many


class SynthPending(RuntimeError):
    """Another synthetic load stopped part-way: finish it (same persons and seed) or discard it first."""


@dataclass(frozen=True)
class _Context:
    """What every chunk reads from the policy: the same for a build and its resumption (same today)."""

    today: date
    now: datetime
    current: date
    last_history: date
    account_start: date
    months: list[_MonthRow]
    seq_of: dict[date, int]
    flexible_from: date
    flexible_min: int
    floor_pct: int
    current_cy: int
    average_at: dict[date, int]
    latest_average: int


def _context(today: date, now: datetime) -> _Context:
    current = month_of(today)
    last_history = add_months(current, -1)
    account_start = param("account_start_month").at(current).value
    months = _month_rows(account_start, last_history)
    return _Context(
        today=today, now=now, current=current, last_history=last_history, account_start=account_start,
        months=months, seq_of={row.month: row.seq for row in months},
        flexible_from=param("flexible_total_rate").values()[0].effective_from,
        flexible_min=param("flexible_base_percent").at(current).value["min"],
        floor_pct=int(param("base_limit_percent").at(current).value["floor"]),
        current_cy=contribution_year(current), average_at={row.month: row.average_fen for row in months},
        latest_average=to_fen(_average_wage(current)))


@dataclass
class _State:
    """Where a build stands; a resumable load keeps it in ``synth_progress``, written in each chunk's transaction.

    ``rng`` is the generator's state after the last loaded person (so the next chunk draws what one run would);
    ``next`` the next id of each table, ``first`` the first id this build gave (``discard`` deletes from
    there); ``dropped`` the PostgreSQL constraints and indexes taken off for the load, re-created at the end.
    """

    persons: int
    seed: int
    today: date
    now: datetime
    credit_years: bool
    rng: list
    next: dict[str, int]
    first: dict[str, int]
    employers: int
    done: int = 0
    spans: int = 0
    months: int = 0
    account_years: int = 0
    dropped: dict | None = None

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "today": self.today.isoformat(), "now": self.now.isoformat()})

    @classmethod
    def from_json(cls, value: str) -> _State:
        data = json.loads(value)
        return cls(**{**data, "today": date.fromisoformat(data["today"]),
                      "now": datetime.fromisoformat(data["now"])})

    def random(self) -> random.Random:
        rng = random.Random()
        version, internal, gauss = self.rng
        rng.setstate((version, tuple(internal), gauss))
        return rng

    def keep(self, rng: random.Random) -> None:
        version, internal, gauss = rng.getstate()
        self.rng = [version, list(internal), gauss]


@dataclass
class _Phases:
    seconds: dict[str, float]
    mark: float

    @classmethod
    def start(cls) -> _Phases:
        return cls({}, time.perf_counter())

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0) + now - self.mark
        self.mark = now

    def report(self) -> tuple[tuple[str, str], ...]:
        return tuple((phase, f"{value:.1f}") for phase, value in self.seconds.items())


def _employers(rng: random.Random, count: int, first_id: int, existing_codes: set[str], now: datetime) -> list[tuple]:
    rows, serial = [], 0
    for employer_id in range(first_id, first_id + count):
        prefecture = PREFECTURES[_weighted(rng, PREFECTURES)]
        while True:
            serial += 1
            code = make_credit_code(prefecture[0], f"MA{serial:07d}")
            if code not in existing_codes:
                break
        name = f"{prefecture[1]}{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(INDUSTRIES)}{rng.choice(SUFFIXES)}"
        rows.append((employer_id, code, name, prefecture[0], "verified", now, now, "synthetic"))
    return rows


@dataclass
class _Chunk:
    persons: list[tuple]
    spells: list[tuple]
    enrolments: list[tuple]
    choices: list[tuple]
    spans: list[tuple]  # (person, employer, kind, start, history end, idx, skip_mod, skip_rem), person order


def _persons(rng: random.Random, count: int, ctx: _Context, state: _State, by_prefecture: dict[str, list[int]],
             all_employers: list[int], existing: set[str]) -> _Chunk:
    """The next ``count`` persons and their spans, drawn from ``rng``; advances ``state.next``."""
    now, current, last_history, account_start = ctx.now, ctx.current, ctx.last_history, ctx.account_start
    person_rows, spans = [], []
    person_id = state.next["person"]
    for _ in range(count):
        kind = KINDS[_weighted(rng, KINDS)][0]
        prefecture = PREFECTURES[_weighted(rng, PREFECTURES)]
        if kind == "retiree":
            birth = date(rng.randint(1936, 1966), rng.randint(1, 12), rng.randint(1, 28))
        else:
            birth = date(rng.randint(1966, 2004), rng.randint(1, 12), rng.randint(1, 28))
        sequence = rng.randrange(1000)
        number = make_resident_id(prefecture[2], birth, sequence)
        while number in existing:
            sequence = (sequence + 2) % 1000
            number = make_resident_id(prefecture[2], birth, sequence)
        existing.add(number)
        sex = "male" if sequence % 2 else "female"
        category = "male" if sex == "male" else ("female_worker" if kind != "flexible" else "female_cadre")
        statutory = _statutory_month(month_of(birth), category)
        if kind != "retiree" and statutory <= current:
            kind = "retiree"
        elif kind == "retiree" and statutory > current:
            kind = "employee"
        person_rows.append((person_id, number, _name(rng), birth, sex, now))
        local = by_prefecture[prefecture[0]] or all_employers
        start = max(account_start, add_months(month_of(birth), 12 * rng.randint(18, 26) + rng.randrange(12)))
        end_of_work = add_months(statutory, -1) if kind == "retiree" else None
        index = _index(rng)
        cursor = start
        # Earlier, closed employment spells with gaps between them.
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            length = rng.randint(6, 120)
            stop = add_months(cursor, length - 1)
            if stop >= (end_of_work or current) or stop >= last_history:
                break
            spans.append(("employer", person_id, rng.choice(local), cursor, stop, index, 0, 0, "resigned"))
            cursor = add_months(stop, 1 + rng.choice((0, 0, 0, 1, 3, 6, 12, 24)))
            index = max(400, index + rng.randint(-150, 250))
        if kind == "retiree":
            if cursor <= end_of_work:
                spans.append(("employer", person_id, rng.choice(local), cursor, end_of_work, index, 0, 0,
                              "retired"))
        elif kind == "employee":
            if cursor > current:
                cursor = current
            spans.append(("employer", person_id, rng.choice(local), cursor, None, index, 0, 0, ""))
        else:
            cursor = min(max(cursor, ctx.flexible_from), current)
            percent = rng.choice((ctx.flexible_min, ctx.flexible_min, ctx.flexible_min, 70, 80, 100, 150, 200, 300))
            skip = rng.choice((0, 0, 17, 29, 41))
            spans.append(("flexible", person_id, None, cursor, None, percent, skip, rng.randrange(skip or 1), ""))
        person_id += 1
    state.next["person"] = person_id

    chunk = _Chunk(person_rows, [], [], [], [])
    spell_id, enrolment_id = state.next["spell"], state.next["enrolment"]
    for kind, pid, eid, start, end, idx, skip_mod, skip_rem, reason in spans:
        if kind == "employer":
            wage = ctx.average_at.get(end, ctx.latest_average) if end else ctx.latest_average
            chunk.spells.append((spell_id, pid, eid, start, end, reason, (wage * idx + 500) // 1000, now,
                                 now if end else None))
            spell_id += 1
        else:
            chunk.enrolments.append((enrolment_id, pid, start, None, "", now))
            chunk.choices.append((enrolment_id, ctx.current_cy, idx, now))
            enrolment_id += 1
        history_end = min(end or last_history, last_history)
        if start <= history_end:
            chunk.spans.append((pid, eid, kind, start, history_end, idx, skip_mod, skip_rem))
    state.next["spell"], state.next["enrolment"] = spell_id, enrolment_id
    return chunk


def _begin(connection, dialect: str, ctx: _Context, *, persons: int, seed: int, credit_years: bool) -> _State:
    """The build's first step: employers, the helper tables, and (PostgreSQL) the constraints taken off."""
    rng = random.Random(seed)
    existing_codes = set(connection.execute(text("SELECT credit_code FROM employer")).scalars())
    employer_count = max(1, persons // PERSONS_PER_EMPLOYER)
    first = {"employer": _next_id(connection, "employer"), "person": _next_id(connection, "person"),
             "spell": _next_id(connection, "employment_spell"), "enrolment": _next_id(connection, "flexible_enrolment"),
             "month": _next_id(connection, "contribution_month"),
             "account": _next_id(connection, "personal_account_year")}
    employers = _employers(rng, employer_count, first["employer"], existing_codes, ctx.now)
    state = _State(persons=persons, seed=seed, today=ctx.today, now=ctx.now, credit_years=credit_years, rng=[],
                   next=dict(first), first=first, employers=employer_count)
    state.keep(rng)
    _load(connection, dialect, "employer", _EMPLOYER_COLUMNS, employers)
    for table in _HELPERS:
        connection.execute(text(_create_sql(table, connection)))
    _load(connection, dialect, "synth_month", [column.name for column in MONTH.columns], [
        (row.month, row.seq, row.average_fen, row.floor_fen, row.cap_fen, ctx.floor_pct,
         *[value for key in _RATE_KEYS for value in row.rates[key]])
        for row in ctx.months])
    if dialect == "postgresql":
        connection.execute(text("ANALYZE synth_month"))
        state.dropped = _drop_constraints(connection, _LOADED_TABLES)
    return state


def _create_sql(table: Table, connection) -> str:
    sql = str(CreateTable(table).compile(dialect=connection.dialect))
    return sql.replace("CREATE TABLE", "CREATE UNLOGGED TABLE", 1) if connection.dialect.name == "postgresql" else sql


def _employers_of(connection, state: _State) -> tuple[dict[str, list[int]], list[int]]:
    """The build's employers by prefecture, in id order (as drawn)."""
    by_prefecture: dict[str, list[int]] = {code: [] for code, *_ in PREFECTURES}
    rows = connection.execute(text("SELECT id, region FROM employer WHERE id >= :low AND id < :high ORDER BY id"),
                              {"low": state.first["employer"], "high": state.first["employer"] + state.employers})
    all_employers = []
    for employer_id, region in rows:
        by_prefecture[region].append(employer_id)
        all_employers.append(employer_id)
    return by_prefecture, all_employers


def _write_chunk(connection, dialect: str, ctx: _Context, state: _State, chunk: _Chunk, workers,
                 phases: _Phases) -> None:
    """Loads one chunk of persons with their spans, monthly history and personal accounts; advances ``state``."""
    with _chunk_settings(connection, dialect):
        _load(connection, dialect, "person", _PERSON_COLUMNS, chunk.persons)
        _load(connection, dialect, "employment_spell", _SPELL_COLUMNS, chunk.spells)
        _load(connection, dialect, "flexible_enrolment", _ENROLMENT_COLUMNS, chunk.enrolments)
        _load(connection, dialect, "flexible_base_choice", _CHOICE_COLUMNS, chunk.choices)
        phases.lap("insert persons and spans")

        # The personal accounts depend only on the spans and the month figures: a worker thread computes them
        # (and, for PostgreSQL, their COPY text) while the database builds the monthly history; the driver
        # releases the interpreter lock while a statement runs, so the two use both processors.
        accounts = None
        if state.credit_years:
            # The timestamp is written once as the text each backend stores, not converted row by row.
            stamp_text = _sqlite_value(ctx.now) if dialect == "sqlite" else ctx.now.astimezone(UTC).isoformat()
            plan = _account_plan(first_year=ctx.account_start.year, last_year=ctx.current.year - 1)
            accounts = workers.submit(_account_rows, chunk.spans, ctx.months, ctx.floor_pct, plan, now=stamp_text,
                                      first_id=state.next["account"], as_text=dialect == "postgresql")

        # The monthly history, set-based. Each span owns the ids of all its months (skipped ones leave holes):
        # no sequence call per row.
        connection.execute(text("DELETE FROM synth_span"))
        staged, next_month_id = [], state.next["month"]
        for row in chunk.spans:
            start_seq, end_seq = ctx.seq_of[row[3]], ctx.seq_of[row[4]]
            staged.append((*row, next_month_id, start_seq, end_seq))
            next_month_id += end_seq - start_seq + 1
        _load(connection, dialect, "synth_span", [column.name for column in SPAN.columns], staged)
        if dialect == "postgresql":
            connection.execute(text("ANALYZE synth_span"))
        if connection.execute(text(_MONTH_FIGURES)).rowcount and dialect == "postgresql":
            connection.execute(text("ANALYZE synth_base"))
        created = connection.execute(_with_now(_HISTORY), {"now": ctx.now}).rowcount
        phases.lap("monthly history")

        account_years = 0
        if accounts is not None:
            rows, account_years = accounts.result()
            if dialect == "postgresql":
                _copy_blocks(connection, "personal_account_year", _ACCOUNT_COLUMNS, rows)
            else:
                connection.exec_driver_sql(
                    f"INSERT INTO personal_account_year ({', '.join(_ACCOUNT_COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' for _ in _ACCOUNT_COLUMNS)})", rows)
        phases.lap("personal accounts")
    state.done += len(chunk.persons)
    state.spans += len(chunk.spells) + len(chunk.enrolments)
    state.months += created
    state.account_years += account_years
    state.next["month"] = next_month_id
    state.next["account"] += account_years


def _finish(connection, dialect: str, state: _State) -> None:
    """The build's last step: constraints and indexes back (validated), sequences past the ids, statistics."""
    for table in _HELPERS:
        connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
    if dialect != "postgresql":
        return
    if state.dropped is not None:
        _restore_constraints(connection, state.dropped)
    for table in ("employer", "person", "employment_spell", "flexible_enrolment", "flexible_base_choice",
                  "contribution_month", "personal_account_year"):
        connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"))
    for table in (*_LOADED_TABLES, "person", "employer"):
        connection.execute(text(f"ANALYZE {table}"))


def _report(state: _State, phases: _Phases, started: float, *, resumed_after: int = 0) -> SynthReport:
    return SynthReport(persons=state.done, employers=state.employers, spans=state.spans, months=state.months,
                       account_years=state.account_years, seconds=f"{time.perf_counter() - started:.1f}",
                       phases=phases.report(), resumed_after=resumed_after)


def generate(session: Session, *, persons: int, seed: int, today: date, now: datetime | None = None,
             credit_years: bool = True, chunk: int = CHUNK_PERSONS) -> SynthReport:
    """Adds a synthetic province of ``persons`` persons to the database in the caller's transaction (flushes;
    the caller commits). The same rows as ``load``, which commits chunk by chunk and can resume."""
    started = time.perf_counter()
    phases = _Phases.start()
    now = now or datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    ctx = _context(today, now)
    session.flush()
    connection = session.connection()
    dialect = connection.dialect.name
    if _pending(connection) is not None:
        raise SynthPending(_pending_message(_pending(connection)))
    state = _begin(connection, dialect, ctx, persons=persons, seed=seed, credit_years=credit_years)
    rng = state.random()
    by_prefecture, all_employers = _employers_of(connection, state)
    existing = set(connection.execute(text("SELECT id_number FROM person")).scalars())
    phases.lap("generate")
    with ThreadPoolExecutor(max_workers=1) as workers:
        while state.done < persons:
            rows = _persons(rng, min(chunk, persons - state.done), ctx, state, by_prefecture, all_employers,
                            existing)
            phases.lap("generate")
            _write_chunk(connection, dialect, ctx, state, rows, workers, phases)
    _finish(connection, dialect, state)
    phases.lap("constraints, indexes and statistics")
    return _report(state, phases, started)


# --- The resumable load (``portal synth``) ---------------------------------------------------------------------


def _pending(connection) -> _State | None:
    if not inspect(connection).has_table(PROGRESS_TABLE):
        return None
    value = connection.execute(text(f"SELECT state FROM {PROGRESS_TABLE}")).scalar()  # noqa: S608
    return None if value is None else _State.from_json(value)


def _pending_message(state: _State) -> str:
    return (f"a synthetic load of {state.persons:,} persons (seed {state.seed}) stopped after {state.done:,}: "
            f"run `portal synth --persons {state.persons} --seed {state.seed}` to finish it, or "
            "`portal synth --discard` to remove what it loaded")


def _save(connection, state: _State) -> None:
    connection.execute(text(f"UPDATE {PROGRESS_TABLE} SET state = :state"), {"state": state.to_json()})  # noqa: S608


def load(factory, *, persons: int, seed: int, today: date, now: datetime, credit_years: bool = True,
         chunk: int = CHUNK_PERSONS, progress=None) -> SynthReport:
    """Adds a synthetic province as ``generate`` does, committing every ``chunk`` persons; run again after a
    crash (same persons and seed), it resumes after the last committed chunk and ends as one clean run would.

    Every chunk commits its rows together with the progress record (``synth_progress``: the generator's state
    and the next ids), so a chunk is either wholly loaded and recorded or not at all, and a resumed load draws
    exactly what an uninterrupted one would. The first transaction loads the employers, creates the helper
    tables and (PostgreSQL) drops the loaded tables' constraints and indexes, recording their definitions; the
    last one re-creates them, drops the helpers and the record. Until then the portal's tables lack those
    constraints: finish the load or ``discard`` it. A resumed load keeps the first run's ``today`` and ``now``.
    ``progress(done, total, months, seconds)`` is called after each chunk (and once at the start).
    """
    from portal.db import transaction

    started = time.perf_counter()
    phases = _Phases.start()
    with transaction(factory) as session:
        connection = session.connection()
        dialect = connection.dialect.name
        state = _pending(connection)
        if state is None:
            connection.execute(text(f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (state TEXT NOT NULL)"))
            state = _begin(connection, dialect, _context(today, now), persons=persons, seed=seed,
                           credit_years=credit_years)
            connection.execute(text(f"INSERT INTO {PROGRESS_TABLE} (state) VALUES (:state)"),  # noqa: S608
                               {"state": state.to_json()})
        elif (state.persons, state.seed) != (persons, seed):
            raise SynthPending(_pending_message(state))
    resumed_after = state.done
    ctx = _context(state.today, state.now)
    if progress:
        progress(state.done, state.persons, state.months, time.perf_counter() - started)
    if state.done < state.persons:
        with transaction(factory) as session:
            connection = session.connection()
            by_prefecture, all_employers = _employers_of(connection, state)
            existing = set(connection.execute(text("SELECT id_number FROM person")).scalars())
        phases.lap("generate")
    number = 0
    with ThreadPoolExecutor(max_workers=1) as workers:
        while state.done < state.persons:
            number += 1
            with transaction(factory) as session:
                connection = session.connection()
                stored = _pending(connection) if dialect == "sqlite" else _State.from_json(connection.execute(
                    text(f"SELECT state FROM {PROGRESS_TABLE} FOR UPDATE")).scalar())  # noqa: S608
                if stored is None or stored.done != state.done:
                    raise SynthPending("another synthetic load is writing the same tables")
                rng = state.random()
                rows = _persons(rng, min(chunk, state.persons - state.done), ctx, state, by_prefecture,
                                all_employers, existing)
                state.keep(rng)
                phases.lap("generate")
                _write_chunk(connection, dialect, ctx, state, rows, workers, phases)
                _save(connection, state)
                crash_point(f"synth.chunk.{number}")
            crash_point(f"synth.committed.{number}")
            if progress:
                progress(state.done, state.persons, state.months, time.perf_counter() - started)
    with transaction(factory) as session:
        connection = session.connection()
        _finish(connection, dialect, state)
        connection.execute(text(f"DROP TABLE {PROGRESS_TABLE}"))
        crash_point("synth.finish")
    phases.lap("constraints, indexes and statistics")
    return _report(state, phases, started, resumed_after=resumed_after)


def discard(factory) -> str | None:
    """Removes what a stopped load wrote (its rows, helper tables and progress record) and puts the dropped
    constraints back, in one transaction; says what it removed, or None when no load was pending."""
    from portal.db import transaction

    with transaction(factory) as session:
        connection = session.connection()
        state = _pending(connection)
        if state is None:
            return None
        for table, key, first in (("personal_account_year", "id", "account"), ("contribution_month", "id", "month"),
                                  ("flexible_base_choice", "enrolment_id", "enrolment"),
                                  ("flexible_enrolment", "id", "enrolment"), ("employment_spell", "id", "spell"),
                                  ("person", "id", "person"), ("employer", "id", "employer")):
            connection.execute(text(f"DELETE FROM {table} WHERE {key} >= :first"),  # noqa: S608
                               {"first": state.first[first]})
        for table in _HELPERS:
            connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
        if state.dropped is not None:
            _restore_constraints(connection, state.dropped)
        connection.execute(text(f"DROP TABLE {PROGRESS_TABLE}"))
    return f"discarded a synthetic load of {state.persons:,} persons (seed {state.seed}) stopped after {state.done:,}"


def disk_use(connection, *, top: int = 5) -> list[tuple[str, int]]:
    """The database's size and its ``top`` largest tables (with their indexes), in bytes."""
    if connection.dialect.name == "postgresql":
        rows = [("database", int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar()))]
        # A table partitioned by year (contribution_month, pension_payment) counts its partitions' sizes.
        rows += [(name, int(size)) for name, size in connection.execute(text(
            "SELECT c.relname, COALESCE((SELECT SUM(pg_total_relation_size(t.relid)) "
            "                            FROM pg_partition_tree(c.oid) t), pg_total_relation_size(c.oid)) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = current_schema() "
            "ORDER BY 2 DESC LIMIT :top"), {"top": top})]
        return rows
    pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
    size = connection.exec_driver_sql("PRAGMA page_size").scalar()
    return [("database", int(pages) * int(size))]


def _with_now(sql: str):
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


# --- The personal accounts, built once from the spans ------------------------------------------------------


def _account_plan(*, first_year: int, last_year: int) -> tuple[int, dict[int, tuple]]:
    """The interest terms of every year to credit (read from the policy before the worker thread starts)."""
    years = {}  # year -> (rate string, numerator, denominator, first-month accrual months)
    for year in range(first_year, last_year + 1):
        start = date(year, 1, 1)
        rate = param("interest_rate").at(start).value
        first = int(param("interest_monthly_product").at(start).value["first_month_accrual_months"])
        years[year] = (str(rate), *rate_fraction(rate), first)
    return last_year, years


def _account_rows(span_rows, months: list[_MonthRow], floor_pct: int, plan: tuple[int, dict[int, tuple]], *,
                  now: str, first_id: int, as_text: bool = False, chunk: int = 50_000) -> tuple[list, int]:
    """Every person's account years, as ``credit_interest`` run for each year in turn would write them.

    The month's personal-account credit is computed as the history SQL computes it; per (kind, index) the
    credits are kept as prefix sums over the months, so a span's credits and monthly product within a year
    cost two subtractions. The yearly chain uses credit_interest's integer formula: opening × rate and
    Σ credit × (first + 1 − month) × rate ÷ 12, each rounded half up on its own.

    Returns (rows, number of rows); with ``as_text`` the rows come as blocks of COPY text lines (plain
    integers and strings without tabs, newlines or backslashes), ``chunk`` rows a block. Pure Python on the
    arguments alone, so it can run in a worker thread.
    """
    seq_of = {row.month: row.seq for row in months}
    last_year, years = plan
    prefix: dict[tuple[str, int, int, int], tuple[list[int], list[int]]] = {}
    # The history SQL's rounding, round-half-up(x × n ÷ d) = (2xn + d) // 2d, in one comprehension per key.
    employer_terms = [(row.average_fen, row.floor_fen, row.cap_fen, *row.rates["ar"]) for row in months]
    flexible_terms = [(row.floor_fen, *row.rates["fa"]) for row in months]
    month_numbers = [row.month.month for row in months]

    def credits_of(key: tuple[str, int, int, int]) -> tuple[list[int], list[int]]:
        """(prefix sum of credits, prefix sum of credit × month number) by month seq; skipped months credit 0."""
        kind, idx, skip_mod, skip_rem = key
        if kind == "employer":
            amounts = [(2 * min(max((average * idx + 500) // 1000, floor), cap) * numerator + denominator)
                       // (2 * denominator) for average, floor, cap, numerator, denominator in employer_terms]
        else:
            amounts = [(2 * ((2 * floor * idx + floor_pct) // (2 * floor_pct)) * numerator + denominator)
                       // (2 * denominator) for floor, numerator, denominator in flexible_terms]
        if skip_mod:
            amounts = [0 if (seq + skip_rem) % skip_mod == 0 else amount for seq, amount in enumerate(amounts)]
        paid, weighted = [0] * (len(amounts) + 1), [0] * (len(amounts) + 1)
        for seq, amount in enumerate(amounts):
            paid[seq + 1] = paid[seq] + amount
            weighted[seq + 1] = weighted[seq] + amount * month_numbers[seq]
        prefix[key] = (paid, weighted)
        return prefix[key]

    # Month seqs instead of dates in the loop below: seq 0 is the first month; January of a year is jan(year).
    first_month = months[0].month
    january = {year: (year - first_month.year) * 12 - (first_month.month - 1)
               for year in range(first_month.year, last_year + 2)}
    rows: list[tuple] = []
    row_id = first_id
    index, count = 0, len(span_rows)
    while index < count:
        person_id = span_rows[index][0]
        credited: dict[int, list[int]] = {}  # year -> [credits, Σ credit × month number]
        while index < count and span_rows[index][0] == person_id:
            _, _, kind, start, end, idx, skip_mod, skip_rem = span_rows[index]
            index += 1
            key = (kind, idx, skip_mod, skip_rem)
            paid, weighted = prefix.get(key) or credits_of(key)
            low_end, high_end = seq_of[start], seq_of[end]
            for year in range(start.year, min(end.year, last_year) + 1):
                low = january[year]
                low = low if low > low_end else low_end
                high = january[year + 1] - 1
                high = high if high < high_end else high_end
                total = paid[high + 1] - paid[low]
                if total:
                    entry = credited.get(year)
                    if entry is None:
                        credited[year] = [total, weighted[high + 1] - weighted[low]]
                    else:
                        entry[0] += total
                        entry[1] += weighted[high + 1] - weighted[low]
        if not credited:
            continue
        balance = 0
        for year in range(min(credited), last_year + 1):
            rate, numerator, denominator, first = years[year]
            total, by_month = credited.get(year, (0, 0))
            product = (first + 1) * total - by_month
            interest = ((2 * balance * numerator + denominator) // (2 * denominator)
                        + (2 * product * numerator + 12 * denominator) // (24 * denominator))
            closing = balance + total + interest
            rows.append((row_id, person_id, year, balance, total, interest, closing, rate, now))
            row_id += 1
            balance = closing
    if not as_text:
        return rows, len(rows)
    return ["".join(["\t".join(map(str, row)) + "\n" for row in rows[begin:begin + chunk]])
            for begin in range(0, len(rows), chunk)], len(rows)


# --- Bulk loading -------------------------------------------------------------------------------------------

_EMPLOYER_COLUMNS = ("id", "credit_code", "name", "region", "status", "created_at", "decided_at", "decision_note")
_PERSON_COLUMNS = ("id", "id_number", "name", "birth_date", "sex", "created_at")
_SPELL_COLUMNS = ("id", "person_id", "employer_id", "start_month", "end_month", "end_reason", "wage_fen",
                  "created_at", "ended_at")
_ENROLMENT_COLUMNS = ("id", "person_id", "start_month", "end_month", "end_reason", "created_at")
_CHOICE_COLUMNS = ("enrolment_id", "contribution_year", "base_percent", "created_at")
_ACCOUNT_COLUMNS = ("id", "person_id", "year", "opening_balance_fen", "contributions_fen", "interest_fen",
                    "closing_balance_fen", "interest_rate", "credited_at")
# Children first: their foreign keys go before the keys they point at would matter.
_LOADED_TABLES = ("personal_account_year", "contribution_month", "flexible_base_choice", "flexible_enrolment",
                  "employment_spell")
# Loaded tables whose primary key is dropped and rebuilt too (with the foreign keys of other tables pointing
# at it, e.g. bill_line's): the large ones.
_PRIMARY_KEY_REBUILT = ("contribution_month", "personal_account_year")


def _sqlite_value(value):
    """What SQLAlchemy's SQLite types store: ISO dates, naive UTC timestamps with microseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _load(connection, dialect: str, table: str, columns, rows) -> None:
    """Appends rows (tuples in ``columns`` order): COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)
    if dialect == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    # Convert only the date and time columns (found from their first non-null value): millions of rows.
    temporal = [position for position in range(len(columns))
                if isinstance(next((row[position] for row in rows if row[position] is not None), None), date)]
    if temporal:
        rows = [tuple(_sqlite_value(value) if position in temporal else value for position, value in enumerate(row))
                for row in rows] if len(temporal) > 1 else [
                    (*row[:temporal[0]], _sqlite_value(row[temporal[0]]), *row[temporal[0] + 1:]) for row in rows]
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _copy_blocks(connection, table: str, columns, blocks: list[str]) -> None:
    """COPY blocks of text lines (see ``_account_rows``): joining them beforehand costs a fraction of
    adapting every value."""
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for block in blocks:
            copy.write(block)


@contextmanager
def _chunk_settings(connection, dialect: str) -> Iterator[None]:
    """Settings for loading one chunk, undone afterwards."""
    if dialect == "sqlite":
        # A chunk is one transaction, so the safety level cannot change (nor would it matter before the
        # commit: WAL with synchronous=NORMAL syncs only at checkpoints); a page cache large enough to keep
        # the growing B-trees in memory spares the spills to the WAL.
        cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.exec_driver_sql("PRAGMA cache_size=-2097152")  # up to 2 GB, allocated only as used
        try:
            yield
        finally:
            connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
        return
    # The history's join hashes the month figures (about a million rows): in memory, not in batches on disk.
    work_mem = connection.exec_driver_sql("SHOW work_mem").scalar()
    connection.exec_driver_sql("SET LOCAL work_mem = '512MB'")
    yield
    connection.execute(text("SELECT set_config('work_mem', :value, true)"), {"value": work_mem})


def _drop_constraints(connection, tables: tuple[str, ...]) -> dict[str, list[list[str]]]:
    """PostgreSQL: drops the loaded tables' foreign keys and secondary indexes (see below); returns their
    definitions for ``_restore_constraints``.

    Per-row foreign-key triggers and index upkeep dominate a load of millions of rows; checking and building
    them once afterwards is several times faster. Partial indexes stay: the loaded rows are paid history,
    which their predicates leave out, so they cost nothing to keep and a full scan to rebuild. The history's
    primary key goes too (with the foreign keys that point at it): kept, it cost more during the load (the
    join does not deliver rows in id order) than its rebuild.
    """
    foreign, unique, indexes = [], [], []
    for table in tables:
        for name, definition, kind, owner in connection.execute(text(
                "SELECT conname, pg_get_constraintdef(oid), contype, CAST(conrelid AS regclass) FROM pg_constraint "
                "WHERE (conrelid = CAST(:t AS regclass) AND (contype IN ('f', 'u') OR (contype = 'p' AND :pk))) "
                "   OR (:pk AND confrelid = CAST(:t AS regclass) AND contype = 'f' AND conrelid <> confrelid) "
                "ORDER BY conname"), {"t": table, "pk": table in _PRIMARY_KEY_REBUILT}):
            entry = [str(owner), name, definition]
            if kind == "f":
                if entry not in foreign:  # a foreign key between two loaded tables is found from both
                    foreign.append(entry)
            else:
                unique.insert(0, entry) if kind == "p" else unique.append(entry)
        # A partitioned table's index (contribution_month on PostgreSQL, by year) reads "ON ONLY <table>": that
        # would re-create it on the parent alone, so it is re-created for every partition.
        indexes += [[table, name, definition.replace(" ON ONLY ", " ON ")]
                    for name, definition in connection.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisprimary AND x.indpred IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid "
            "                AND c.conrelid = x.indrelid) ORDER BY i.relname"), {"t": table})]
    for table, name, _ in foreign + unique[::-1]:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _, name, _ in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return {"foreign": foreign, "unique": unique, "indexes": indexes}


def _restore_constraints(connection, dropped: dict[str, list[list[str]]]) -> None:
    """Re-creates what ``_drop_constraints`` dropped: primary keys first (the foreign keys pointing at them need
    them), then the unique keys and indexes, with enough memory to sort the largest index (the history's
    unique key, about 1.5 GB at 100,000 persons) without spilling; then the foreign keys, validated."""
    memory = connection.exec_driver_sql("SHOW maintenance_work_mem").scalar()
    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '2GB'")
    for table, name, definition in dropped["unique"]:
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, _, definition in dropped["indexes"]:
        connection.exec_driver_sql(definition)
    for table, name, definition in dropped["foreign"]:
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    connection.execute(text("SELECT set_config('maintenance_work_mem', :value, true)"), {"value": memory})


# --- The same-run baseline: COPY of the same rows -----------------------------------------------------------

SYNTH_TABLES = ("employer", "person", "employment_spell", "flexible_enrolment", "flexible_base_choice",
                "contribution_month", "personal_account_year")
BASELINE_SCHEMA = "synth_copy"


@dataclass(frozen=True)
class CopyBaseline:
    """What PostgreSQL itself takes to write the synthetic province's rows: COPY into copies of its tables."""

    rows: int
    copy_seconds: float  # COPY of every row, into copies without keys or indexes
    index_seconds: float  # then their primary and unique keys and indexes, as the synthetic load rebuilds them
    tables: tuple[tuple[str, int, float], ...]  # (table, rows, COPY and index seconds)

    @property
    def seconds(self) -> float:
        return self.copy_seconds + self.index_seconds


def copy_baseline(engine, *, tables: tuple[str, ...] = SYNTH_TABLES,
                  slice_rows: int = 20_000_000) -> CopyBaseline | None:
    """The same-run baseline of the synthetic province (PostgreSQL; None on SQLite).

    Every row of ``tables`` (on a fresh database: the province just generated) is streamed with
    ``COPY (SELECT …) TO STDOUT`` from one connection into ``COPY … FROM STDIN`` of a copy of its table
    (``synth_copy.<table>``: a plain logged table, the same columns, no keys) on another; then the table's keys
    and indexes are built on the copy, as the synthetic load rebuilds them. No generation logic and no Python
    work per row beyond handing the driver's blocks over; the reading side runs in its own server process at the
    same time, so the figure is about the writing side.

    Disk stays bounded: a table is copied ``slice_rows`` ids at a time (a 1,000,000-person history is some
    180 million rows, twice its size would not fit beside it), each slice's copy timed, indexed and dropped
    before the next. Building indexes slice by slice sorts less than one build over the whole table, so the
    baseline errs on the fast side (the ratio against it on the strict side).
    """
    if engine.dialect.name != "postgresql":
        return None
    reader, writer = engine.raw_connection(), engine.raw_connection()
    source, target = reader.driver_connection, writer.driver_connection
    timed, total, copying, indexing = [], 0, 0, 0
    try:
        with target.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {BASELINE_SCHEMA}")
            cursor.execute("SET maintenance_work_mem = '2GB'")
        target.commit()
        for table in tables:
            key = "enrolment_id" if table == "flexible_base_choice" else "id"
            with source.cursor() as cursor:
                cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM public.{table}")  # noqa: S608 - our names
                low, high = cursor.fetchone()
                cursor.execute("SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x "
                               "WHERE x.indrelid = CAST(%s AS regclass) ORDER BY x.indisprimary DESC",
                               (f"public.{table}",))
                # (" ON ONLY …": the parent's index of a table partitioned by year; the copy is a plain table.)
                definitions = [re.sub(rf" ON (ONLY )?(public\.)?{table} ", f" ON {BASELINE_SCHEMA}.{table} ",
                                      definition, count=1) for (definition,) in cursor.fetchall()]
            source.rollback()
            rows, seconds = 0, 0
            for start in range(low, high + 1, slice_rows) if low is not None else ():
                with target.cursor() as cursor:
                    cursor.execute(f"CREATE TABLE {BASELINE_SCHEMA}.{table} (LIKE public.{table})")
                target.commit()
                began = time.perf_counter()
                with source.cursor() as out_cursor, target.cursor() as in_cursor:
                    with out_cursor.copy(f"COPY (SELECT * FROM public.{table} WHERE {key} >= {start} "  # noqa: S608
                                         f"AND {key} < {start + slice_rows}) TO STDOUT") as out, \
                            in_cursor.copy(f"COPY {BASELINE_SCHEMA}.{table} FROM STDIN") as into:
                        for block in out:
                            into.write(block)
                    rows += in_cursor.rowcount
                target.commit()
                copied = time.perf_counter()
                with target.cursor() as cursor:
                    for definition in definitions:
                        cursor.execute(definition)
                target.commit()
                indexed = time.perf_counter()
                source.rollback()
                copying += copied - began
                indexing += indexed - copied
                seconds += indexed - began
                with target.cursor() as cursor:
                    cursor.execute(f"DROP TABLE {BASELINE_SCHEMA}.{table}")
                target.commit()
            total += rows
            timed.append((table, rows, seconds))
        return CopyBaseline(rows=total, copy_seconds=copying, index_seconds=indexing, tables=tuple(timed))
    finally:
        target.rollback()
        with target.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE")
        target.commit()
        reader.close()
        writer.close()
