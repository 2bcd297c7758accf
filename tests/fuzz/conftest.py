"""The fuzz suite's hypothesis profile and its case count.

Deterministic (``derandomize``: the same cases on every run, so CI is reproducible), no per-case
deadline (a 2-core CI machine is noisy; tests/fuzz/props.py fails a case that hangs instead), and
``SCRATCHNN_FUZZ_EXAMPLES`` cases per test (default below, about 50 s for the folder on 2 cores);
set it higher for a deeper search, e.g. ``SCRATCHNN_FUZZ_EXAMPLES=500 pytest tests/fuzz``.
``SCRATCHNN_FUZZ_SHRINK=0`` reports a failing case as found, without hypothesis's (slow) search for a
smaller one, for a quick first look at many failures.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from .props import CASES

DEFAULT_EXAMPLES = 20

settings.register_profile(
    "scratchnn-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("SCRATCHNN_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=False,
    report_multiple_bugs=False,
    phases=[p for p in Phase if p != Phase.shrink or os.environ.get("SCRATCHNN_FUZZ_SHRINK", "1") != "0"],
)

_seconds = {"fuzz": 0.0}


def pytest_runtest_logreport(report: Any) -> None:
    if "tests/fuzz/" in report.nodeid.replace("\\", "/"):
        _seconds["fuzz"] += report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CASES["n"]:
        terminalreporter.write_line(
            f"scratchnn fuzz: {CASES['n']} cases (hypothesis examples and swept values) in "
            f"{_seconds['fuzz']:.1f} s of tests/fuzz "
            f"(SCRATCHNN_FUZZ_EXAMPLES={settings.get_profile('scratchnn-fuzz').max_examples} per test)"
        )
