"""The plots of docs/VALIDATION.md: the simulator beside its references (`microweld validate
--plots DIR`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from firmware_sim import kernel as K
from firmware_sim.validation import CD_BAR, TC_CD, TC_INV, nominal, weld

PLOTS: dict[str, Callable[[], Figure]] = {}


def plot(fn: Callable[[], Figure]) -> Callable[[], Figure]:
    """Register a plot under its function's name (the PNG's name)."""
    PLOTS[fn.__name__] = fn
    return fn


def series_rlc_current(v0: float, r: float, ind: float, c: float, t: np.ndarray) -> np.ndarray:
    """Return the current (A) of a series RLC discharged from v0 (V) at times t (s)."""
    alpha = r / (2 * ind)
    w0 = 1 / math.sqrt(ind * c)
    if alpha < w0:
        wd = math.sqrt(w0 * w0 - alpha * alpha)
        return v0 / (wd * ind) * np.exp(-alpha * t) * np.sin(wd * t)
    root = math.sqrt(alpha * alpha - w0 * w0)
    s1, s2 = -alpha + root, -alpha - root
    return v0 / (ind * (s1 - s2)) * (np.exp(s1 * t) - np.exp(s2 * t))


@plot
def cd_bar_rlc() -> Figure:
    res = nominal(TC_CD, *CD_BAR)
    i = res.clean[:, K.OUT_CURRENT]
    start = int(np.argmax(i > 0)) - 1
    t = (np.arange(i.size) - start) * 1e-6
    n = 10.0
    ref = series_rlc_current(100.0 / n, 1.5e-3, 1.0e-6, 1000e-6 * n * n, np.clip(t, 0, None))
    fig, ax = plt.subplots(figsize=(7, 4))
    keep = (t >= 0) & (t < 3 * t[int(np.argmax(i))])
    ax.plot(t[keep] * 1e3, i[keep] / 1e3, label="simulator", lw=2)
    ax.plot(t[keep] * 1e3, ref[keep] / 1e3, "--", label="series RLC, closed form")
    ax.set(xlabel="time since the pulse began (ms)", ylabel="current (kA)")
    ax.set_title("CD bank into a 1 mΩ bar (ideal transformer)")
    ax.legend()
    return fig


@plot
def tc_weld_time() -> Figure:
    times = [8, 12, 16, 24, 32, 48, 64, 96]
    welds = [weld(TC_INV, f"supply.weld1_ms={ms}").outcome for ms in times]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(times, [o.jbf_n for o in welds], "o-", label="simulator: joint breaking force")
    ax.errorbar([24], [1.1723], yerr=[0.117], fmt="s", color="k", capsize=4, label="Cui 2021")
    ax.set(xlabel="weld time at 2.1 V (ms)", ylabel="joint breaking force (N)", ylim=(0, None))
    side = ax.twinx()
    side.plot(times, [o.setdown_pct for o in welds], "^:", color="tab:red", label="set-down")
    side.set(ylabel="set-down (% of the wire's diameter)", ylim=(0, 100))
    ax.set_title("Thermocompression of 0.1 mm PU Cu on phosphor bronze, 12 N")
    ax.legend(loc="lower right")
    return fig


def write_plots(folder: Path) -> list[Path]:
    """Write every plot as folder/NAME.png; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in PLOTS.items():
        fig = make()
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
