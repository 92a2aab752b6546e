"""PNG figures (matplotlib, no display needed): a weld's waveforms over its process window,
the weld lobe of a map, and a feature's control charts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: the controller never opens a window
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from controller.analysis import spc
from controller.analysis.mapping import DEFECT_ORDER, Lobe
from controller.monitor.window import Window


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


# one marker per defect class: told apart in print too, not by colour alone
MARKERS = {
    "none": ("o", "#1b5e20"),
    "weak_joint": ("o", "#bdbdbd"),
    "enamel_residue": ("s", "#1565c0"),
    "over_deformation": ("v", "#6a1b9a"),
    "coating_remelt": ("D", "#ef6c00"),
    "electrode_stick": ("P", "#4e342e"),
    "wire_cut": ("X", "#b71c1c"),
    "expulsion": ("*", "#d81b60"),
    "missing_wire": ("x", "#424242"),
    "not_fired": (".", "#9e9e9e"),
}


def _edges(values: tuple[float, ...]) -> np.ndarray:
    """Return the cell edges around the values (midpoints; the ends half a step out)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _outline(ax: Axes, inside: np.ndarray, x_e: np.ndarray, y_e: np.ndarray) -> None:
    """Draw the border of the cells marked inside: each side whose neighbour is outside."""
    out = ~np.pad(inside, 1)  # the map's edge counts as outside
    for i, j in zip(*np.nonzero(inside), strict=True):
        x0, x1, y0, y1 = x_e[i], x_e[i + 1], y_e[j], y_e[j + 1]
        for (di, dj), (xs, ys) in (
            ((-1, 0), ((x0, x0), (y0, y1))),
            ((1, 0), ((x1, x1), (y0, y1))),
            ((0, -1), ((x0, x1), (y0, y0))),
            ((0, 1), ((x0, x1), (y1, y1))),
        ):
            if out[i + 1 + di, j + 1 + dj]:
                ax.plot(xs, ys, color="white", lw=2.5)


def _lobe_panel(
    ax: Axes,
    lb: Lobe,
    k: int,
    vmax: float,
    nominal: tuple[float, ...] | None,
    suggested: tuple[float, ...] | None,
) -> Any:
    """Draw panel k of the lobe (the k-th value of a third axis); return its colour mesh."""
    axes = lb.axes
    ax1 = axes[0]
    ax2 = axes[1] if len(axes) > 1 else None
    sel: tuple[int | slice, ...] = (slice(None),) * min(len(axes), 2) + (
        (k,) if len(axes) > 2 else ()
    )
    # (n1, n2) for this panel; one row when only one axis is swept
    jbf = lb.jbf_n[sel].reshape(len(ax1.values), -1)
    frac = lb.pass_frac[sel].reshape(len(ax1.values), -1)
    defect = lb.defect[sel].reshape(len(ax1.values), -1)
    y_values = ax2.values if ax2 else (0.0,)
    x_e, y_e = _edges(ax1.values), _edges(y_values)
    mesh = ax.pcolormesh(x_e, y_e, jbf.T, cmap="viridis", vmin=0.0, vmax=vmax, shading="flat")
    # the PASS region: the edges between a passing cell (most welds PASS) and any other
    _outline(ax, np.nan_to_num(frac, nan=0.0) >= 0.5, x_e, y_e)
    for d in DEFECT_ORDER:
        ii, jj = np.nonzero(defect == d)
        if len(ii):
            marker, colour = MARKERS.get(d, ("?", "k"))
            ax.scatter(
                np.asarray(ax1.values)[ii],
                np.asarray(y_values)[jj],
                marker=marker,
                s=46,
                c=colour,
                edgecolors="white",
                linewidths=0.6,
                zorder=3,
            )
    here = len(axes) < 3 or (nominal is not None and np.isclose(nominal[2], axes[2].values[k]))
    if nominal is not None and here:
        ax.scatter(
            [nominal[0]], [nominal[1] if ax2 else 0.0], marker="*", s=380, c="gold",
            edgecolors="black", linewidths=1.0, zorder=5,
        )  # fmt: skip
    if suggested is not None and (len(axes) < 3 or np.isclose(suggested[2], axes[2].values[k])):
        ax.scatter(
            [suggested[0]], [suggested[1] if ax2 else 0.0], marker="o", s=260,
            facecolors="none", edgecolors="red", linewidths=2.2, zorder=5,
        )  # fmt: skip
    ax.set_xlabel(ax1.label)
    ax.set_ylabel(ax2.label if ax2 else "")
    if len(axes) > 2:
        ax.set_title(f"{axes[2].label} = {axes[2].values[k]:g}")
    return mesh


def _lobe_legend(lb: Lobe) -> list[Artist]:
    """Return the legend's entries: the defect classes present, the PASS region, the points."""
    present = [d for d in DEFECT_ORDER if (lb.defect == d).any()]
    handles: list[Artist] = [
        Line2D(
            [],
            [],
            marker=MARKERS[d][0],
            color=MARKERS[d][1],
            ls="",
            markersize=8,
            label=(
                f"weak joint (< {lb.min_jbf_pct:g} % of the wire)"
                if d == "weak_joint"
                else "sound joint"
                if d == "none"
                else d.replace("_", " ")
            ),
        )
        for d in present
    ]
    handles.append(Patch(facecolor="none", edgecolor="white", label="PASS region (window)"))
    handles.append(
        Line2D(
            [],
            [],
            marker="*",
            color="gold",
            markeredgecolor="k",
            ls="",
            markersize=14,
            label="the schedule's own point",
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            color="red",
            markerfacecolor="none",
            ls="",
            markersize=12,
            label="suggested operating point",
        )
    )
    return handles


def plot_lobe(
    lb: Lobe,
    path: Path,
    title: str,
    nominal: tuple[float, ...] | None = None,
    suggested: tuple[float, ...] | None = None,
) -> Path:
    """Write the lobe: mean joint strength (colour), defect class (markers), PASS outlined."""
    axes = lb.axes
    panels = len(axes[2].values) if len(axes) > 2 else 1
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig, grid = plt.subplots(
        rows, cols, figsize=(6.2 * cols + 1.6, 5.0 * rows), squeeze=False, constrained_layout=True
    )
    finite = lb.jbf_n[np.isfinite(lb.jbf_n)]
    vmax = float(finite.max()) if finite.size else 1.0
    mesh = None
    for k in range(rows * cols):
        ax = grid[k // cols][k % cols]
        if k >= panels:
            ax.axis("off")
            continue
        mesh = _lobe_panel(ax, lb, k, vmax, nominal, suggested)
    fig.suptitle(title)
    if mesh is not None:
        fig.colorbar(mesh, ax=grid, label="joint breaking force, N (mean; simulator's truth)")
    handles = _lobe_legend(lb)
    # as many columns as the panels give room for
    leg = fig.legend(
        handles=handles, loc="outside lower center", ncol=min(len(handles), 2 * cols, 4)
    )
    leg.get_frame().set_facecolor("#dddddd")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_feature(fs: spc.FeatureSpc, path: Path, title: str, failed: set[int]) -> Path:
    """Write the I chart (control and window limits), the EWMA and the CUSUM of a feature."""
    fig = feature_figure(fs, title, failed)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def feature_figure(fs: spc.FeatureSpc, title: str, failed: set[int]) -> Figure:
    """Return the figure of plot_feature (`microweld report` puts it in its pages); the
    caller closes it."""
    ids, n0 = fs.ids, fs.baseline.n
    fig, (ax_i, ax_e, ax_c) = plt.subplots(
        3, 1, figsize=(10, 8.5), sharex=True, height_ratios=(3, 2, 2)
    )
    for ax in (ax_i, ax_e, ax_c):
        if n0 < len(ids):
            ax.axvspan(ids[0], ids[n0 - 1], color="0.92", lw=0)  # the baseline (phase I)
        ax.grid(alpha=0.3)
    ax_i.plot(ids, fs.values, "-o", color="tab:blue", lw=0.8, ms=3, label=fs.feature)
    ch = fs.chart
    ax_i.axhline(ch.centre, color="0.3", lw=1, label="centre (baseline mean)")
    for y in (ch.ucl, ch.lcl):
        ax_i.axhline(y, color="0.3", lw=1, ls="--")
    ax_i.plot([], [], color="0.3", ls="--", label="control limits ±3σ (σ = MR̄/1.128)")
    lsl, usl = fs.capability.lsl, fs.capability.usl
    for bound in (lsl, usl):
        if bound is not None:
            ax_i.axhline(bound, color="tab:red", lw=1.2, ls="-.")
    if lsl is not None or usl is not None:
        ax_i.plot([], [], color="tab:red", ls="-.", label="window limits")
    out = ch.outside
    if out:
        ax_i.plot(
            [ids[i] for i in out], [fs.values[i] for i in out], "o", mfc="none", mec="tab:orange",
            ms=8, label="beyond control limits",
        )  # fmt: skip
    bad = [k for k, w in enumerate(ids) if w in failed]
    if bad:
        ax_i.plot(
            [ids[k] for k in bad], [fs.values[k] for k in bad], "x", color="tab:red", ms=7,
            label="FAIL (for any feature)",
        )  # fmt: skip
    ax_i.set_ylabel(f"{fs.feature} ({fs.unit})" if fs.unit else fs.feature)
    ax_i.legend(loc="best", fontsize=7)
    ax_i.set_title(title)
    after = ids[n0:]
    ax_e.plot(after, fs.ewma.z, color="tab:purple", lw=1, label="EWMA (λ=0.2)")
    ax_e.step(after, fs.ewma.ucl, where="mid", color="0.3", ls="--", lw=1, label="limits (L=3)")
    ax_e.step(after, fs.ewma.lcl, where="mid", color="0.3", ls="--", lw=1)
    ax_e.axhline(fs.baseline.mean, color="0.3", lw=0.8)
    ax_e.set_ylabel(f"EWMA ({fs.unit})" if fs.unit else "EWMA")
    ax_c.plot(after, fs.cusum.upper, color="tab:green", lw=1, label="C+ (up)")
    ax_c.plot(after, fs.cusum.lower, color="tab:brown", lw=1, label="C− (down)")
    ax_c.axhline(fs.cusum.h, color="0.3", ls="--", lw=1, label=f"h = {fs.cusum.h:g} σ")
    # a drift keeps adding to its sum long after the alarm: show the region around h
    top = max([*fs.cusum.upper, *fs.cusum.lower, 1.2 * fs.cusum.h])
    ax_c.set_ylim(0.0, min(top, 4.0 * fs.cusum.h) * 1.05)
    ax_c.set_ylabel("CUSUM (σ)")
    ax_c.set_xlabel("weld (log id); grey: baseline")
    for which, ax, ys in (
        ("ewma", ax_e, fs.ewma.z),
        ("cusum", ax_c, [max(u, d) for u, d in zip(fs.cusum.upper, fs.cusum.lower, strict=True)]),
    ):
        k = fs.alarm_index(which)
        if k is not None:
            ax.plot(ids[k], ys[k - n0], "o", color="tab:red", ms=8, label=f"alarm: weld {ids[k]}")
            ax_i.axvline(ids[k], color="tab:red", lw=0.8, ls=":")
        ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    return fig
