"""Crash points for the crash-consistency tests: the process dies at a named point, as in a power cut.

Inert unless armed, and only ``Settings.crash_at`` arms it, which is read from ``PORTAL_CRASH_AT`` only when
``PORTAL_ENV=test``. SIGKILL rather than an exception: nothing of the process's own clean-up runs, so a test
sees exactly what a killed worker leaves behind. An unarmed crash point costs one comparison.

The points: ``transaction.commit`` and ``transaction.committed`` (around the command line's commit, the latter
before its audit events are sealed), ``committed:<module>.<view>`` (a request committed, not yet answered),
``billing.months``, ``billing.lines``, ``interest.credited``, ``declaration.draft``, ``declaration.replaced`` and
``declaration.saved`` (inside the work, before any commit). tests/records/test_batch_crashes.py uses them.
``portal synth`` adds ``synth.chunk.N`` (chunk N written, not committed), ``synth.committed.N`` and
``synth.finish``, for tests/records/test_synth_resume.py.
"""

from __future__ import annotations

import os
import signal

_armed = ""


def arm(point: str) -> None:
    global _armed
    _armed = point


def crash_point(point: str) -> None:
    if _armed and point == _armed:
        os.kill(os.getpid(), signal.SIGKILL)
