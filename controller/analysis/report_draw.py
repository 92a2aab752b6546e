"""A QA report's text and charts (controller/analysis/report.py has its figures), and its PDF:
a summary page, then one A4 page per schedule. The text of each page is made once, as lines,
for the PDF and the HTML alike (report_html.py); each escapes it for where it goes.

Names in it come from people (parts, operators, lots, reasons): drawn with mathtext off, so a
"$" is a dollar and not a formula (matplotlib would parse "$x$", and fail on "$\\bogus$").
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the controller never opens a window
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from controller.analysis import spc
from controller.analysis.report import Report, ScheduleFigures
from controller.qa.record import LoggedWeld
from controller.qa.text import escaped

A4_IN = (8.27, 11.69)
LINE = 7 * 1.2 / (A4_IN[1] * 72)  # a line of 7-point text (spacing 1.2): a fraction of the page
WRAP = 118  # characters of 7-point monospace across the page
LISTED = 8  # aborted or foreign welds listed by name on a page (the rest counted)
PARETO_BARS = 8
CHART_ROW = 0.085  # kinds of reasons drawn; the rest as one bar
DEFINITIONS = (
    "yield: PASS of the welds made (PASS, FAIL, ABORTED); NO-WELD cycles (no current) and "
    "foreign welds (another master's) are in neither yield nor Cpk. Cp, Cpk: sample σ "
    "(ddof=1) against the window's limits, over the PASS and FAIL welds."
)


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None or x != x else format(x, fmt)  # x != x: NaN


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} %"


def _listed(welds: Sequence[LoggedWeld], what: str) -> list[str]:
    """Return a line per weld (the first LISTED), and how many more."""
    lines = [
        f"  weld {w.id} {w.t_utc[:19]} {w.station} part {w.part_id}: {'; '.join(w.reasons)}"
        for w in welds[:LISTED]
    ]
    # about two lines of the page at most each: the charts below keep their room
    lines = [line if len(line) <= 2 * WRAP else line[: 2 * WRAP - 1] + "…" for line in lines]
    if len(welds) > LISTED:
        lines.append(f"  … and {len(welds) - LISTED} more {what}")
    return lines


def summary_lines(report: Report) -> list[str]:
    """Return the summary page's text: what was reported on, the chain, the totals."""
    a = report.about
    stations = sorted({w.station for w in report.welds})
    lines = [
        f"station: {a.station}" + (f" (records of {', '.join(stations)})" if stations else ""),
        f"selection: {a.selection}",
        f"made: {a.made_utc} UTC by microweld {a.version}",
        f"hash chain: {report.chain}",
        "",
        f"{len(report.welds)} records: {report.count('PASS')} PASS, {report.count('FAIL')} FAIL, "
        f"{report.count('ABORTED')} ABORTED; yield {_pct(report.yield_pct)}",
        f"{report.count('NO-WELD')} NO-WELD cycles (counted apart)",
        f"{len(report.foreign)} foreign welds (fired by another master)",
        "",
    ]
    lines += [
        f"schedule {s.schedule}: {s.made} welds, yield {_pct(s.yield_pct)}, "
        f"{len(s.of('NO-WELD'))} NO-WELD"
        for s in report.schedules
    ]
    if report.foreign:
        lines += ["", "foreign welds:", *_listed(report.foreign, "foreign welds")]
    if len(report.chain_problems) > 1:
        lines += ["", "hash chain problems:", *(f"  {p}" for p in report.chain_problems[:LISTED])]
    return [*lines, "", DEFINITIONS]


def schedule_lines(s: ScheduleFigures) -> list[str]:
    """Return a schedule page's text: counts, yield, window, warnings, aborted welds."""
    fails = s.of("FAIL")
    lines = [
        f"{s.made} welds made: {len(s.of('PASS'))} PASS, {len(fails)} FAIL, "
        f"{len(s.of('ABORTED'))} ABORTED; yield {_pct(s.yield_pct)}",
        f"{len(s.of('NO-WELD'))} NO-WELD cycles (counted apart: in neither yield nor Cpk)",
        f"judged by: {s.window_note}",
        f"lots: {', '.join(sorted({w.lot for w in s.welds}))}; "
        f"operators: {', '.join(sorted({w.operator for w in s.welds}))}",
        f"parts: {s.welds[0].part_id} … {s.welds[-1].part_id} (log ids {s.welds[0].id} to "
        f"{s.welds[-1].id})",
    ]
    if s.versions > 1:
        lines.append(f"note: the schedule was changed while these welds were made ({s.versions})")
    if (n := s.thin_capability) is not None:
        # Cpk from a handful is a guess: its 95 % interval at n = 3 spans a factor of ten
        lines.append(
            f"warning: Cp and Cpk from {n} welds are not to be trusted: "
            f"{spc.MIN_CAPABILITY_N} at least are wanted"
        )
    if s.thin:
        lines.append(f"too few values for SPC (welds): {', '.join(s.thin)}")
    if fails:
        lines.append(f"FAIL reasons (a weld may give several): {len(fails)} FAIL welds")
    aborted = s.of("ABORTED")
    if aborted:
        lines += ["aborted welds:", *_listed(aborted, "aborted welds")]
    return lines


CPK_HEAD = ("feature", "unit", "n", "mean", "σ", "LSL", "USL", "Cp", "Cpk")


def cpk_rows(s: ScheduleFigures) -> list[tuple[str, ...]]:
    """Return the capability table's rows (CPK_HEAD's columns), as text."""
    return [
        (
            fs.feature,
            fs.unit,
            str(fs.capability.n),
            _num(fs.capability.mean, ".6g"),
            _num(fs.capability.sd, ".3g"),
            _num(fs.capability.lsl, ".6g"),
            _num(fs.capability.usl, ".6g"),
            _num(fs.capability.cp, ".2f"),
            _num(fs.capability.cpk, ".2f"),
        )
        for fs in s.features
    ]


def _table_lines(s: ScheduleFigures) -> list[str]:
    widths = (16, 4, 5, 10, 9, 10, 10, 6, 6)
    rows = [CPK_HEAD, *cpk_rows(s)]
    return [" ".join(c.rjust(w) if k > 1 else c.ljust(w) for k, (c, w) in
                     enumerate(zip(r, widths, strict=True))) for r in rows]  # fmt: skip


def draw_pareto(ax: Axes, s: ScheduleFigures) -> None:
    """Draw the Pareto of FAIL reasons: a bar per kind, the most frequent on top."""
    kinds = s.pareto
    if len(kinds) > PARETO_BARS:
        rest = sum(c for _, c in kinds[PARETO_BARS - 1 :])
        kinds = [*kinds[: PARETO_BARS - 1], ("(other kinds)", rest)]
    if not kinds:
        ax.text(0.5, 0.5, "no FAIL", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    y = list(range(len(kinds)))[::-1]
    ax.barh(y, [c for _, c in kinds], color="tab:red", alpha=0.7)
    ax.set_yticks(y, labels=[escaped(k)[:60] for k, _ in kinds], fontsize=7)
    for label in ax.get_yticklabels():
        label.set_parse_math(False)
    for yy, (_, c) in zip(y, kinds, strict=True):
        ax.text(c, yy, f" {c}", va="center", fontsize=7)
    ax.set_xlabel("FAIL welds giving this reason", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("Pareto of FAIL reasons", fontsize=8)


def draw_individuals(ax: Axes, fs: spc.FeatureSpc, failed: set[int]) -> None:
    """Draw a feature's individuals chart: control limits (baseline), window limits, FAILs."""
    ax.plot(fs.ids, fs.values, "-o", color="tab:blue", lw=0.6, ms=1.5)
    ch = fs.chart
    ax.axhline(ch.centre, color="0.3", lw=0.6)
    for y in (ch.ucl, ch.lcl):
        ax.axhline(y, color="0.3", lw=0.6, ls="--")
    for bound in (fs.capability.lsl, fs.capability.usl):
        if bound is not None:
            ax.axhline(bound, color="tab:red", lw=0.8, ls="-.")
    bad = [k for k, w in enumerate(fs.ids) if w in failed]
    if bad:
        ax.plot([fs.ids[k] for k in bad], [fs.values[k] for k in bad], "x", color="tab:red", ms=3)
    unit = f" ({fs.unit})" if fs.unit else ""
    ax.set_title(f"{fs.feature}{unit}: Cpk {_num(fs.capability.cpk, '.2f')}", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.grid(alpha=0.3)


def _text(fig: Figure, y: float, lines: Sequence[str], size: float = 7) -> float:
    """Write lines from y down (wrapped, escaped, no mathtext); return the y below them."""
    wrapped = [part for line in lines for part in (textwrap.wrap(escaped(line), WRAP) or [""])]
    fig.text(0.06, y, "\n".join(wrapped), family="monospace", fontsize=size, va="top",
             parse_math=False)  # fmt: skip
    return y - LINE * len(wrapped) * size / 7


def summary_page(report: Report) -> Figure:
    """Return the summary page."""
    fig = Figure(figsize=A4_IN)
    fig.text(0.06, 0.965, "QA report", fontsize=16, weight="bold")
    _text(fig, 0.93, summary_lines(report))
    return fig


def schedule_page(s: ScheduleFigures) -> Figure:
    """Return a schedule's page: its text, the Pareto, the capability table, the charts."""
    fig = Figure(figsize=A4_IN)
    fig.text(0.06, 0.965, escaped(f"schedule {s.schedule}"), fontsize=13, weight="bold",
             parse_math=False)  # fmt: skip
    y = _text(fig, 0.945, schedule_lines(s))
    y = _text(fig, y - LINE, _table_lines(s)) - 2 * LINE
    if s.pareto:
        height = 0.025 + 0.015 * min(len(s.pareto), PARETO_BARS)
        draw_pareto(fig.add_axes((0.40, y - height, 0.52, height)), s)
        y -= height + 0.05
    if s.features:
        rows = math.ceil(len(s.features) / 2)
        # a row of charts 0.085 of the page high at most: a single one does not fill it
        y = max(y, 0.04 + CHART_ROW)  # text that ran long is overdrawn, never a failure
        bottom = max(0.04, y - CHART_ROW * rows)
        grid = fig.add_gridspec(rows, 2, left=0.08, right=0.97, bottom=bottom, top=y,
                                hspace=0.9, wspace=0.25)  # fmt: skip
        for k, fs in enumerate(s.features):
            draw_individuals(fig.add_subplot(grid[k // 2, k % 2]), fs, s.failed_ids)
    return fig


def write_pdf(report: Report, path: Path, progress: Callable[[str], None] = lambda _: None) -> int:
    """Write the report as a PDF (the summary, then a page per schedule); return its pages."""
    pages = 0
    with PdfPages(path) as pdf:
        pdf.savefig(summary_page(report))
        pages += 1
        for k, s in enumerate(report.schedules, start=1):
            progress(f"schedule {s.schedule} ({k} of {len(report.schedules)})")
            pdf.savefig(schedule_page(s))
            pages += 1
        info = pdf.infodict()
        info["Title"] = f"QA report: {report.about.selection}"
        info["Creator"] = f"microweld {report.about.version}"
    return pages
