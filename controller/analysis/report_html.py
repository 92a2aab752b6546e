"""A QA report as one self-contained HTML file: a summary section, then a section per schedule,
its charts embedded as base64 PNG (nothing fetched when it is opened, and it can be mailed).

Every text from the log is escaped (html.escape after the terminal's escaping): part ids,
operators, lots and reasons come from people, and a part id is not to run as a script in QA's
browser.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from controller.analysis.plots import feature_figure
from controller.analysis.report import Report, ScheduleFigures
from controller.analysis.report_draw import (
    CPK_HEAD,
    cpk_rows,
    draw_pareto,
    schedule_lines,
    summary_lines,
)
from controller.qa.text import escaped

STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
section { border-top: 2px solid #888; margin-top: 2em; }
pre { white-space: pre-wrap; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; }
.failed { color: #b71c1c; font-weight: bold; }
"""


def _e(text: str) -> str:
    return html.escape(escaped(text), quote=True)


def _png(fig: Figure) -> str:
    """Return the figure as an <img> of an embedded PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)  # plot_feature's figures are pyplot's: let it forget them
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _pre(lines: Iterable[str]) -> str:
    return "<pre>" + "\n".join(_e(line) for line in lines) + "</pre>"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def _summary(report: Report) -> str:
    chain = _e(f"hash chain: {report.chain}")
    css = ' class="failed"' if report.chain_problems else ""
    return (
        '<section id="summary"><h1>QA report</h1>'
        f"<p{css}>{chain}</p>{_pre(summary_lines(report))}</section>"
    )


def _schedule(s: ScheduleFigures) -> str:
    parts = [f'<section class="schedule"><h2>{_e("schedule " + s.schedule)}</h2>']
    parts.append(_pre(schedule_lines(s)))
    if s.pareto:
        fig = Figure(figsize=(8, 0.5 + 0.3 * min(len(s.pareto), 8)), layout="constrained")
        draw_pareto(fig.add_subplot(), s)
        parts.append(_png(fig))
        parts.append(
            _table(("FAIL reason (kind)", "FAIL welds"), [(k, str(c)) for k, c in s.pareto])
        )
    parts.append("<h3>capability</h3>" + _table(CPK_HEAD, cpk_rows(s)))
    for fs in s.features:
        parts.append(_png(feature_figure(fs, f"{s.schedule}: {fs.feature}", s.failed_ids)))
    return "".join(parts) + "</section>"


def write_html(report: Report, path: Path, progress: Callable[[str], None] = lambda _: None) -> int:
    """Write the report as one HTML file (the summary, then a section per schedule); return
    its sections."""
    sections = [_summary(report)]
    for k, s in enumerate(report.schedules, start=1):
        progress(f"schedule {s.schedule} ({k} of {len(report.schedules)})")
        sections.append(_schedule(s))
    title = _e(f"QA report: {report.about.selection}")
    doc = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )
    path.write_text(doc, encoding="utf-8")
    return len(sections)
