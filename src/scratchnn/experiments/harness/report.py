"""``Report``: what an experiment's ``report(config, results)`` returns, and its ``report.md`` rendering.

The report states the question, the setup, one or more tables of results, the figures (embedded
as ``![caption](file.png)``) and a short reading. The reading is computed from the numbers by the
experiment's ``report`` function, never written in advance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Report", "Table", "fmt", "render_markdown"]


@dataclass(frozen=True)
class Table:
    """A results table: column names and rows of cells (numbers are formatted by :func:`fmt`)."""

    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""


@dataclass(frozen=True)
class Report:
    """The contents of ``report.md``.

    Args:
        title: the report's heading, e.g. "Optimizers on Fashion-MNIST".
        question: what the experiment asks, one or two sentences.
        setup: data, model, training budget, what varies (markdown).
        tables: the results, one :class:`Table` each.
        figures: ``(file name, caption)`` of PNGs the run saved with ``ctx.savefig``.
        reading: what the numbers show, generated from them (markdown; several paragraphs or bullets).
        headline: one line for ``docs/experiments.md`` and the command's last output line.
    """

    title: str
    question: str
    setup: str
    tables: list[Table]
    figures: list[tuple[str, str]]
    reading: str
    headline: str = ""
    notes: list[str] = field(default_factory=list)


def fmt(value: Any, digits: int = 4) -> str:
    """A table cell: floats to ``digits`` significant digits, None as '-', non-finite as 'nan'/'inf'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.{digits}g}"
    return str(value)


def _table_md(table: Table) -> str:
    lines = []
    if table.caption:
        lines += [table.caption, ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    for row in table.rows:
        if len(row) != len(table.columns):
            raise ValueError(
                f"Invalid value for `rows`: expected {len(table.columns)} cells per row (columns {table.columns}). "
                f"Received: a row of {len(row)}"
            )
        lines.append("| " + " | ".join(fmt(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def render_markdown(report: Report, *, name: str, command: str, runtime_s: float, quick: bool) -> str:
    """``report.md``: title, question, setup, results tables, figures, reading, and how it was run."""
    parts = [f"# {report.title}", ""]
    if report.headline:
        parts += [f"**{report.headline.strip()}**", ""]
    if quick:
        parts += [
            "> Quick version (`--quick`): a seconds-long run on small data; the numbers are a smoke test, "
            "not the experiment's result.",
            "",
        ]
    parts += ["## Question", "", report.question.strip(), "", "## Setup", "", report.setup.strip(), ""]
    parts += ["## Results", ""]
    for table in report.tables:
        parts += [_table_md(table), ""]
    for file, caption in report.figures:
        parts += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    parts += ["## Reading", "", report.reading.strip(), ""]
    for note in report.notes:
        parts += [f"- {note}"]
    if report.notes:
        parts.append("")
    parts += ["---", "", f"Experiment `{name}`, run with `{command}` in {runtime_s:.1f} s.", ""]
    return "\n".join(parts)
