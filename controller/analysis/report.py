"""The figures of a QA report (`microweld report`): per schedule the count, the yield, the Pareto
of FAIL reasons, capability and charts per feature (controller/analysis/spc.py), the aborted
welds; for the whole selection the foreign welds, the no-weld cycles and the chain's check.
Pure: welds in, numbers out; controller/analysis/report_draw.py and report_html.py draw them.

What is counted where, on purpose:
- a NO-WELD cycle (force only, no current) is no weld: counted apart, in neither yield nor SPC;
- a foreign weld (fired by another master during a session, record.FOREIGN) is no weld of any
  schedule: listed on the summary, in neither yield nor SPC;
- an ABORTED weld is a part welded but not judged good: it is in the yield's denominator (the
  part is not known good), and out of SPC (its features are of a weld cut short).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from controller.analysis import spc
from controller.monitor.window import FEATURES, Window
from controller.qa.record import FOREIGN, JUDGED, LoggedWeld

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# A FAIL's reasons carry the weld's own values ("setdown_um 80.2 µm above 62 µm"), so no two
# read alike: the Pareto counts them by kind, the values taken out (controller/monitor/window.py
# and monitor.py write these forms). Anything else is its text with its numbers as "#".
KINDS = (
    (re.compile(rf"^(\w+) {NUMBER} \S+ (below|above) "), r"\1 \2 the window"),
    (re.compile(rf"^(\w+) above {NUMBER} \(limit action STOP\)"), r"\1 above the window"),
    (re.compile(rf"^(\w+) {NUMBER} outside its envelope"), r"\1 outside its envelope"),
    (re.compile(r"^(\w+): not measured"), r"\1 not measured"),
)


def reason_kind(reason: str) -> str:
    """Return the kind of a FAIL reason: its text without the weld's own values."""
    for pattern, kind in KINDS:
        if m := pattern.match(reason):
            return m.expand(kind)
    return re.sub(NUMBER, "#", reason).strip()


def is_foreign(weld: LoggedWeld) -> bool:
    """Return True for the record of a weld another master fired during a session."""
    return weld.verdict == "ABORTED" and any(r.startswith(FOREIGN) for r in weld.reasons)


def pareto(welds: Sequence[LoggedWeld]) -> list[tuple[str, int]]:
    """Return the kinds of the FAIL welds' reasons with their counts, most first (ties by name).
    A weld with two reasons counts in both kinds; one reason twice counts once."""
    counts: Counter[str] = Counter()
    for w in welds:
        if w.verdict == "FAIL":
            counts.update({reason_kind(r) for r in w.reasons} or {"(no reason given)"})
    return sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))


@dataclass(frozen=True)
class ScheduleFigures:
    """One schedule's page of the report."""

    schedule: str
    welds: list[LoggedWeld]  # every record of it in the selection, no-weld cycles included
    window_note: str
    features: list[spc.FeatureSpc]
    thin: list[str] = field(default_factory=list)  # "feature (n)": too few values for SPC

    def of(self, verdict: str) -> list[LoggedWeld]:
        """Return the welds of one verdict."""
        return [w for w in self.welds if w.verdict == verdict]

    @property
    def made(self) -> int:
        """Welds made: PASS, FAIL and ABORTED (no-weld cycles are none)."""
        return len(self.welds) - len(self.of("NO-WELD"))

    @property
    def yield_pct(self) -> float | None:
        """PASS in percent of the welds made (None: none made)."""
        return 100.0 * len(self.of("PASS")) / self.made if self.made else None

    @property
    def pareto(self) -> list[tuple[str, int]]:
        """The kinds of FAIL reasons with their counts, most first."""
        return pareto(self.welds)

    @property
    def versions(self) -> int:
        """Versions of the schedule (its hash) the welds were made with."""
        return len({w.schedule_hash for w in self.welds})

    @property
    def thin_capability(self) -> int | None:
        """The fewest values behind a Cpk when below MIN_CAPABILITY_N (None: enough)."""
        n = min((fs.capability.n for fs in self.features), default=None)
        return n if n is not None and n < spc.MIN_CAPABILITY_N else None

    @property
    def failed_ids(self) -> set[int]:
        """Log ids of the FAIL welds (marked on the charts)."""
        return {w.id for w in self.of("FAIL")}


@dataclass(frozen=True)
class About:
    """What the report says of itself: station, selection, when made, by which software."""

    station: str
    selection: str
    made_utc: str
    version: str


@dataclass(frozen=True)
class Report:
    """A QA report: its pages' figures and the chain's check ([] problems: verified)."""

    about: About
    schedules: list[ScheduleFigures]
    foreign: list[LoggedWeld]
    chain_problems: list[str]

    @property
    def welds(self) -> list[LoggedWeld]:
        """Every record of the schedules' pages (the foreign welds are on none)."""
        return [w for s in self.schedules for w in s.welds]

    def count(self, verdict: str) -> int:
        """Return how many of the pages' welds have this verdict."""
        return sum(len(s.of(verdict)) for s in self.schedules)

    @property
    def yield_pct(self) -> float | None:
        """PASS in percent of every weld made (no-weld cycles and foreign welds left out)."""
        made = sum(s.made for s in self.schedules)
        return 100.0 * self.count("PASS") / made if made else None

    @property
    def chain(self) -> str:
        """The chain's check in one line: "verified", or "failed: " and the first reason."""
        if not self.chain_problems:
            return "verified"
        more = len(self.chain_problems) - 1
        return f"failed: {self.chain_problems[0]}" + (f" (and {more} more)" if more else "")


def schedule_figures(
    schedule: str,
    welds: Sequence[LoggedWeld],
    window: Window | None,
    window_note: str,
    baseline_welds: int = spc.BASELINE_WELDS,
) -> ScheduleFigures:
    """Return one schedule's figures: SPC of every feature its judged welds measured."""
    judged = [w for w in welds if w.verdict in JUDGED]
    features, thin = [], []
    for feature in FEATURES:
        ids, values = spc.series(judged, feature)
        if not values:
            continue
        if len(values) < 2:
            thin.append(f"{feature} ({len(values)})")
            continue
        features.append(spc.analyse(feature, ids, values, window, baseline_welds))
    return ScheduleFigures(schedule, list(welds), window_note, features, thin)


def compile_report(
    about: About,
    selected: Sequence[LoggedWeld],
    windows: Mapping[str, tuple[Window | None, str]],
    chain_problems: Sequence[str],
    during: Sequence[LoggedWeld] = (),
) -> Report:
    """Return the report of the selected welds, one page per schedule.

    windows: per schedule, the window to judge it by and a note on it. during: the welds the
    log holds over the selection's time (a lot's welds name their lot, a foreign weld names
    none): its foreign welds at the selection's stations are listed with the selection's own.
    """
    own = [w for w in selected if not is_foreign(w)]
    stations = {w.station for w in own}
    foreign = {w.id: w for w in selected if is_foreign(w)}
    for w in during:
        if is_foreign(w) and (not stations or w.station in stations):
            foreign[w.id] = w
    pages = []
    for name in sorted({w.schedule for w in own}):
        window, note = windows.get(name, (None, "no window"))
        pages.append(schedule_figures(name, [w for w in own if w.schedule == name], window, note))
    return Report(about, pages, sorted(foreign.values(), key=lambda w: w.id), list(chain_problems))
