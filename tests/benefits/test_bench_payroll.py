"""The payroll benchmark's section works end to end on a few pensioners (the figures themselves come from
``make bench``)."""

from __future__ import annotations

from portal.devtools.bench import payroll


def test_the_payroll_section_pays_everyone_once_and_times_an_award_from_a_40_year_history(tmp_path):
    figures = dict(payroll.measure(f"sqlite:///{tmp_path / 'bench.db'}", pensioners=300))
    assert figures["[sqlite] payroll for 300 pensioners"].endswith(" s")
    assert "[sqlite] the same month run again (pays 0)" in figures
    assert any(label.startswith("[sqlite] award from a 40-year monthly history") for label in figures)
    assert any(label.startswith("[sqlite] the same award from the record already read") for label in figures)
