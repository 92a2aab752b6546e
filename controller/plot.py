"""A PNG of a weld's waveforms with its process window (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the controller never opens a window
import matplotlib.pyplot as plt
import numpy as np

from controller.window import Window


def plot_weld(
    wave: np.ndarray,
    rate_hz: float,
    path: Path,
    title: str,
    window: Window | None = None,
    gate_a: float = 20.0,
) -> Path:
    """Write current, voltage, resistance, force and set-down against time since the current."""
    i, v, f, x = wave[:, 0], wave[:, 1], wave[:, 2], wave[:, 3]
    on = np.flatnonzero(np.abs(i) > gate_a)
    t0 = on[0] if on.size else 0
    t_ms = (np.arange(len(i)) - t0) / rate_hz * 1e3
    touch = np.flatnonzero(f >= (window.monitor.contact_n if window else 0.1))
    x_contact = x[touch[0]] if touch.size else x[0]
    r_mohm = np.where(np.abs(i) > gate_a, v / np.where(i == 0, 1, i), np.nan) * 1e3
    lo = max(t_ms[0], -10.0)
    hi = t_ms[on[-1]] + 15.0 if on.size else t_ms[-1]
    keep = (t_ms >= lo) & (t_ms <= hi)  # plot what is shown, so the axes scale to it
    t_ms, i, v, f, x, r_mohm = (a[keep] for a in (t_ms, i, v, f, x, r_mohm))
    panels = [
        ("current_a", "current (A)", i),
        ("voltage_v", "voltage (V)", v),
        ("r_mohm", "R (mΩ)", r_mohm),
        ("force_n", "force (N)", f),
        ("setdown_um", "set-down (µm)", x_contact - x),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 10), sharex=True)
    for ax, (key, label, y) in zip(axes, panels, strict=True):
        ax.plot(t_ms, y, lw=0.8, color="tab:blue")
        band = getattr(window.envelope, key, None) if window else None
        if band is not None:
            tb = np.arange(len(band.lo)) * window.envelope.step_ms  # type: ignore[union-attr]
            ax.fill_between(
                tb, band.lo, band.hi, color="tab:green", alpha=0.2, step="post", label="window"
            )
            ax.legend(loc="upper right", fontsize=8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time since the current started (ms)")
    axes[0].set_title(title)
    axes[-1].set_xlim(lo, hi)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
