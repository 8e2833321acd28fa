"""The credit benchmark's section works end to end on a few employers (the figures themselves come from
``make bench``)."""

from __future__ import annotations

from portal.devtools.bench import credit


def test_the_credit_section_rates_every_employer_twice_with_the_same_grades(tmp_path):
    figures = dict(credit.measure(f"sqlite:///{tmp_path / 'bench.db'}", employers=200))
    assert figures["[sqlite] credit recompute, 200 employers (2,400 bills)"].endswith(" s")
    assert "[sqlite] the same recompute run again" in figures
    # Most paid on time (A); arrears and false commitments bring some lower.
    grades = dict(part.split(" ") for part in figures["[sqlite] grades"].split(", "))
    assert sum(int(n.replace(",", "")) for n in grades.values()) == 200 and {"A", "B", "D"} <= set(grades)
