"""Print the part-to-part spread of 30 (or --count) welds of each shipped schedule: the
coefficient of variation (CoV, %) of energy, peak current, set-down and joint strength (JBF).

    python scripts/spread_cov.py [--count N] [--seed S] [--off SOURCE ...] [SCHEDULE ...]

The welds are made as the default station makes them (firmware_sim/population.py): each a new
part drawn from configs/variation.toml, the tip's wear and heat carried from weld to weld.
docs/VALIDATION.md ("Part-to-part spread") holds the figures this printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from drivers.config.schedule import load_schedule  # noqa: E402
from drivers.config.variation import SourceName, load_variation  # noqa: E402
from firmware_sim.population import weld_population  # noqa: E402

QUANTITIES = (
    ("energy_j", "E"),
    ("peak_current_a", "Ipk"),
    ("setdown_um", "set-down"),
    ("jbf_n", "JBF"),
)


def cov_pct(values: list[float]) -> float:
    """Return the sample standard deviation over the mean, %."""
    mean = statistics.fmean(values)
    return 100.0 * statistics.stdev(values) / abs(mean) if mean else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("schedules", nargs="*", help="schedule names (default: every shipped one)")
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0, help="the station's seed")
    ap.add_argument("--off", nargs="*", default=[], help="sources of spread to switch off")
    args = ap.parse_args(argv)
    names = args.schedules or sorted(
        p.stem for p in (REPO / "configs" / "schedules").glob("*.toml")
    )
    off: list[SourceName] = args.off
    var = load_variation().switched_off(*off)
    print("schedule | " + " | ".join(f"{s} mean | {s} CoV %" for _, s in QUANTITIES) + " | ms/weld")
    for name in names:
        t0 = time.perf_counter()
        res = weld_population(load_schedule(name), args.count, args.seed, variation=var)
        per_weld_ms = (time.perf_counter() - t0) / args.count * 1e3
        cells = []
        for field, _ in QUANTITIES:
            values = [float(getattr(r.outcome, field)) for r in res]
            cells += [f"{statistics.fmean(values):.4g}", f"{cov_pct(values):.2f}"]
        print(f"{name} | " + " | ".join(cells) + f" | {per_weld_ms:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
