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
from firmware_sim.validation.process import FORCE_N, direct_sweep
from firmware_sim.validation.supplies import CASES, SETPOINT, UNIT
from firmware_sim.validation.table import CD_BAR, TC_CD, TC_INV, nominal

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
    welds = [nominal(TC_INV, f"supply.weld1_ms={ms}").outcome for ms in times]
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


@plot
def inverter_steps() -> Figure:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, mode in zip(axes, ("current", "voltage", "power"), strict=True):
        for load, m, value in CASES:
            if m != mode:
                continue
            over = [f"supply.mode={mode}", "~supply.weld1_voltage_v", "supply.up1_ms=0"]
            over.append(f"supply.{SETPOINT[mode]}={value}")
            if load != "hot Mo tip":
                over += ["process.kind=resistor", "process.load_mohm=5"]
            res = nominal(TC_INV, *over)
            i = res.clean[:, K.OUT_CURRENT]
            v = res.clean[:, K.OUT_VOLTAGE]
            y = {"current": i, "voltage": v, "power": i * v}[mode]
            t = (res.t_s - res.t_s[np.argmax(i > 0.0)]) * 1e3
            keep = (t > -0.5) & (t < 6.0)
            ax.plot(t[keep], y[keep] / value, label=load, lw=1)
        ax.axhspan(0.95, 1.05, color="0.9")
        ax.axhline(1.10, color="tab:red", ls=":", lw=1)
        ax.set(xlabel="time from the step (ms)", ylim=(0, 1.3))
        ax.set_title(f"constant {mode} ({UNIT[mode]})")
    axes[0].set_ylabel("regulated quantity / setpoint")
    axes[0].legend(loc="lower right")
    return fig


@plot
def cd_pulses() -> Figure:
    fig, ax = plt.subplots(figsize=(7, 4))
    for tap in ("short", "medium", "long"):
        res = nominal(TC_CD, f"supply.pulse_tap={tap}")
        i = res.clean[:, K.OUT_CURRENT]
        t = (res.t_s - res.t_s[np.argmax(i > 0.0)]) * 1e3
        keep = (t > -0.5) & (t < 15.0)
        ax.plot(t[keep], i[keep], label=f"{tap} tap")
    ax.set(xlabel="time from the pulse's start (ms)", ylabel="current (A)")
    ax.set_title(f"CD pulses of {TC_CD} by tap (transformer saturating)")
    ax.legend()
    return fig


@plot
def direct_window() -> Figure:
    sweep = {a: o for a, o in direct_sweep().items() if a <= 1000}
    amps = list(sweep)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.axvspan(250, 800, color="0.9", label="Fukumoto: tested range, 250-800 A")
    ax.plot(amps, [sweep[a].jbf_n for a in amps], "o-", label="simulator: joint breaking force")
    for a in amps:
        if sweep[a].defect != "none":
            ax.annotate(sweep[a].defect, (a, sweep[a].jbf_n), fontsize=7, rotation=30)
    ax.set(xlabel="constant current, 10 ms (A)", ylabel="joint breaking force (N)")
    ax.set_title(f"crossed 0.4 mm Ni at {FORCE_N:g} N (4 kgf)")
    ax.legend(loc="upper right", fontsize=8)
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
