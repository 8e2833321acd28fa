"""The monitoring benchmark's section works end to end on a tiny synthetic province (the figures themselves come
from ``make bench``): the refresh from empty, the refresh of one changed month (that month alone), a rerun that
recomputes nothing, the projection and the page, each with the issue's target beside it."""

from __future__ import annotations

from portal.devtools.bench import monitoring


def test_the_monitoring_section_measures_each_figure_of_the_issue_beside_its_target(tmp_path):
    figures = dict(monitoring.measure(f"sqlite:///{tmp_path / 'bench.db'}", persons=300))
    labels = list(figures)
    assert labels[0].startswith("[sqlite] synth 300 persons")
    refresh = next(label for label in labels if label.startswith("[sqlite] monitoring refresh from empty ("))
    assert figures[refresh].endswith("s (target < 60 s at 1,000,000 persons on PostgreSQL)")
    changed = next(label for label in labels if "one changed month" in label)
    assert changed.endswith("of 2026-10)") and "(target < 10 s at 1,000,000" in figures[changed]
    assert figures["[sqlite] monitoring refresh rerun (0 months recomputed)"].endswith(" s")
    projection = next(label for label in labels if label.startswith("[sqlite] projection 2026-2050"))
    assert "(target < 5 s at 1,000,000" in figures[projection]
    page = figures["[sqlite] GET /staff/monitoring (min / median / p95 of 20)"]
    assert page.endswith("ms (target < 300 ms at 1,000,000 persons on PostgreSQL)")
