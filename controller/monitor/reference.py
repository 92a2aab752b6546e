"""Plain-Python reference of the monitor kernel: the same algorithm, sample by sample.

Slow and obvious on purpose: the numba kernel is checked against it (tests/test_monitor_kernel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from controller.monitor import kernels as K
from controller.monitor.window import MonitorSettings


@dataclass
class RefResult:
    """Everything the monitor knows at the end of a weld."""

    energy_j: float = 0.0
    i2_sum: float = 0.0
    i_peak: float = 0.0
    on_n: int = 0
    t_on: float = -1.0
    t_off: float = -1.0
    t_contact: float = -1.0
    x_contact: float = 0.0
    t_firing: float = -1.0
    setdown_um: float = 0.0
    setdown_max_um: float = 0.0
    r_last: float = math.nan
    r_peak: float = 0.0
    r_first: float = math.nan
    t_burn: float = -1.0
    t_expel: float = -1.0
    t_target: float = -1.0
    stop: int = 0
    t_stop: float = -1.0
    env: tuple[float, int, float] = (-1.0, -1, 0.0)
    f_peak: float = 0.0
    p_peak: float = 0.0
    r: list[float] = field(default_factory=list)
    p: list[float] = field(default_factory=list)


def reference(
    settings: MonitorSettings,
    dt_s: float,
    cur: np.ndarray,
    volt: np.ndarray,
    force: np.ndarray,
    pos: np.ndarray,
    env_lo: np.ndarray,
    env_hi: np.ndarray,
) -> RefResult:
    """Run the monitor's algorithm over a whole weld, one sample at a time (dt_s: the sample
    period, s)."""
    res = RefResult()
    contact = False
    setdowns: list[float] = []
    speeds: list[float] = []
    vel_peak = 0.0
    n_on = 0
    for n in range(len(cur)):
        t = n * dt_s
        i, v, f, x = float(cur[n]), float(volt[n]), float(force[n]), float(pos[n])
        p = v * i
        res.p.append(p)
        res.f_peak = max(res.f_peak, f)
        if not contact and f >= settings.contact_n:
            contact, res.t_contact, res.x_contact = True, t, x
        if res.t_firing < 0 and f >= settings.firing_n:
            res.t_firing = t
        sd = res.x_contact - x if contact else 0.0
        res.setdown_um = sd
        res.setdown_max_um = max(res.setdown_max_um, sd)
        w = settings.velocity_window
        old = setdowns[n - w] if n >= w else sd
        setdowns.append(sd)
        vel = (sd - old) / (w * dt_s * 1e3)
        r = math.nan
        if abs(i) > settings.gate_a:
            r = v / i
            if res.t_on < 0:
                res.t_on, res.r_first, n_on = t, r, n
            res.t_off = t + dt_s
            res.on_n += 1
            res.i2_sum += i * i
            res.energy_j += p * dt_s
            res.i_peak = max(res.i_peak, abs(i))
            res.p_peak = max(res.p_peak, p)
            peak_before = res.r_peak
            if abs(i) > settings.r_gate_a:
                res.r_last = r
                res.r_peak = max(res.r_peak, r)
            if vel > vel_peak and n - n_on > w:
                vel_peak = vel
                m = _final_rise_start(settings, speeds, n, n_on, vel_peak)
                if vel_peak >= settings.burn_velocity_um_ms:
                    res.t_burn = (m - 0.5 * w) * dt_s
            crest = peak_before > 0 and r < peak_before * (1 - settings.expulsion_r_drop_pct / 100)
            jump = sd - old >= settings.expulsion_jump_um
            if res.t_expel < 0 and settings.expulsion_jump_um > 0 and crest and jump:
                res.t_expel = t
            stop = _stops_met(settings, res, sd, r)
            if stop & K.STOP_SETDOWN and res.t_target < 0:
                res.t_target = t
            if stop and res.t_stop < 0:
                res.t_stop = t
            res.stop |= stop
        speeds.append(vel)
        res.r.append(r)
        if res.t_on >= 0 and res.env[0] < 0:
            j = round((t - res.t_on) / dt_s)
            if j < env_lo.shape[1]:
                outside = _first_outside(env_lo[:, j], env_hi[:, j], (r, i, v, p, f, sd))
                if outside is not None:
                    res.env = (t, *outside)
    return res


def _final_rise_start(
    settings: MonitorSettings, speeds: list[float], n: int, n_on: int, vel_peak: float
) -> int:
    """Return the sample where the rise to the peak speed at sample n began: walk back over the
    speeds at or above burn_fraction of the peak, no further than the ring of speeds reaches
    and the speed window after the current start (n_on)."""
    w = settings.velocity_window
    m = n
    while (
        n - m < K.N_VHIST - 1
        and m - 1 - n_on > w
        and speeds[m - 1] >= settings.burn_fraction * vel_peak
    ):
        m -= 1
    return m


def _stops_met(settings: MonitorSettings, res: RefResult, sd: float, r: float) -> int:
    """Return the stop criteria (STOP_* bits) met at a gated sample with set-down sd (µm) and R
    r (Ω), res holding the weld so far (this sample included)."""
    stop = 0
    if settings.setdown_target_um > 0 and sd >= settings.setdown_target_um:
        stop |= K.STOP_SETDOWN
    if settings.r_drop_pct > 0 and r < res.r_peak * (1 - settings.r_drop_pct / 100):
        stop |= K.STOP_R_DROP
    if settings.energy_max_j > 0 and res.energy_j >= settings.energy_max_j:
        stop |= K.STOP_ENERGY
    if settings.time_max_ms > 0 and (res.t_off - res.t_on) * 1e3 >= settings.time_max_ms:
        stop |= K.STOP_TIME
    return stop


def _first_outside(
    lo: np.ndarray, hi: np.ndarray, values: tuple[float, ...]
) -> tuple[int, float] | None:
    """Return the first channel whose value is outside its band, and the value (None: every
    value inside or unbanded; a NaN value or bound never violates)."""
    for ch, val in enumerate(values):
        if math.isnan(val):
            continue
        if (not math.isnan(lo[ch]) and val < lo[ch]) or (not math.isnan(hi[ch]) and val > hi[ch]):
            return ch, val
    return None
