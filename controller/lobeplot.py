"""The weld lobe as a PNG (matplotlib, no display): joint strength and defect class over the two
main swept parameters, the window's PASS region outlined (one panel per value of a third)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the controller never opens a window
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from controller.mapping import DEFECT_ORDER, Lobe

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


def plot_lobe(
    lb: Lobe,
    path: Path,
    title: str,
    nominal: tuple[float, ...] | None = None,
    suggested: tuple[float, ...] | None = None,
) -> Path:
    """Write the lobe: mean joint strength (colour), defect class (markers), PASS outlined."""
    axes = lb.axes
    ax1 = axes[0]
    ax2 = axes[1] if len(axes) > 1 else None
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
    fig.suptitle(title)
    if mesh is not None:
        fig.colorbar(mesh, ax=grid, label="joint breaking force, N (mean; simulator's truth)")
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
    # as many columns as the panels give room for
    leg = fig.legend(
        handles=handles, loc="outside lower center", ncol=min(len(handles), 2 * cols, 4)
    )
    leg.get_frame().set_facecolor("#dddddd")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
