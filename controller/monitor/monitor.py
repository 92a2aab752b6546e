"""The streaming monitor: feed it blocks as they arrive, get events and STOP decisions, and at the
end the weld's features and its verdict against the process window."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from controller.monitor import kernels as K
from controller.monitor.window import CHANNELS, MonitorSettings, Window, judge
from drivers.wire.frames import CHANNELS as STREAM_CHANNELS
from drivers.wire.frames import SAMPLE_PERIOD_S

STOP_NAMES = {
    K.STOP_SETDOWN: "set-down target reached",
    K.STOP_R_DROP: "R dropped",
    K.STOP_ENERGY: "energy ceiling",
    K.STOP_TIME: "time ceiling",
}
EVENTS = (
    ("contact", K.Q_T_CONTACT),
    ("firing force", K.Q_T_FIRING),
    ("current on", K.Q_T_ON),
    ("burn-through", K.Q_T_BURN),
    ("expulsion", K.Q_T_EXPEL),
    ("set-down target", K.Q_T_TARGET),
    ("stop", K.Q_T_STOP),
)
CH_SCALE = {"r_mohm": 1e-3}  # window units to the kernel's (R in Ω)


def settings_vector(s: MonitorSettings, dt_s: float) -> np.ndarray:
    """Return the kernel's parameter vector for monitor settings."""
    mp = np.zeros(K.N_MPARAMS)
    mp[K.M_DT_S] = dt_s
    mp[K.M_GATE_A] = s.gate_a
    mp[K.M_CONTACT_N] = s.contact_n
    mp[K.M_FIRING_N] = s.firing_n
    mp[K.M_WIRE_D_UM] = s.wire_diameter_um
    mp[K.M_SETDOWN_TARGET_UM] = s.setdown_target_um
    mp[K.M_R_DROP_PCT] = s.r_drop_pct
    mp[K.M_ENERGY_MAX_J] = s.energy_max_j
    mp[K.M_TIME_MAX_MS] = s.time_max_ms
    mp[K.M_BURN_VELOCITY_UM_MS] = s.burn_velocity_um_ms
    mp[K.M_VELOCITY_WINDOW] = s.velocity_window
    mp[K.M_EXPULSION_JUMP_UM] = s.expulsion_jump_um
    mp[K.M_EXPULSION_R_DROP_PCT] = s.expulsion_r_drop_pct
    mp[K.M_BURN_FRACTION] = s.burn_fraction
    mp[K.M_R_GATE_A] = s.r_gate_a
    return mp


def envelope_arrays(window: Window | None, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the window's bands on the sample grid, (N_CH, n) each, NaN where unbanded."""
    if window is None:
        empty = np.full((K.N_CH, 0), np.nan)
        return empty, empty.copy()
    env = window.envelope
    per = max(1, round(env.step_ms * 1e-3 / dt_s))
    bands = {ch: getattr(env, ch) for ch in CHANNELS if getattr(env, ch) is not None}
    n = max((len(b.lo) for b in bands.values()), default=0) * per
    lo = np.full((K.N_CH, n), np.nan)
    hi = np.full((K.N_CH, n), np.nan)
    for k, ch in enumerate(CHANNELS):
        band = bands.get(ch)
        if band is None:
            continue
        scale = CH_SCALE.get(ch, 1.0)
        m = len(band.lo) * per
        lo[k, :m] = np.repeat(np.asarray(band.lo) * scale, per)
        hi[k, :m] = np.repeat(np.asarray(band.hi) * scale, per)
    return lo, hi


@dataclass(frozen=True)
class Decision:
    """What a block changed: new events (name, time s) and whether to stop now (and why)."""

    events: tuple[tuple[str, float], ...] = ()
    stop: bool = False
    reasons: tuple[str, ...] = ()


QUIET = Decision()  # most blocks change nothing: one shared answer, nothing made per block


@dataclass
class WeldResult:
    """The finished weld: features, verdict, every reason, events; inhibit: the next weld must
    not fire until someone acknowledges (a violated limit whose action is "inhibit")."""

    features: dict[str, float | None]
    verdict: str
    reasons: list[str]
    events: dict[str, float]
    inhibit: bool = False


# Features that only grow during a weld: their upper limit can stop it the moment it is crossed.
GROWING = (
    "weld_time_ms",
    "energy_j",
    "peak_current_a",
    "r_peak_mohm",
    "setdown_um",
    "setdown_pct",
    "peak_force_n",
)


class Monitor:
    """Watches one weld block by block (any block size) against a process window."""

    def __init__(
        self,
        window: Window | None = None,
        settings: MonitorSettings | None = None,
        dt_s: float = SAMPLE_PERIOD_S,
        capacity_s: float = 2.0,
    ) -> None:
        self.window = window
        self.settings = settings or (window.monitor if window else MonitorSettings())
        self.dt_s = dt_s
        self.mp = settings_vector(self.settings, dt_s)
        self.q = K.new_state()
        self.env_lo, self.env_hi = envelope_arrays(window, dt_s)
        # preallocated record of the weld, a row per channel (I, V, F, X, R, P): no allocation
        # per block, the kernel writes R and P straight into their rows, and written through
        # once here (~1 ms for 2 s) so that no block of the weld pays the page faults of
        # fresh memory (they made the decision's p90 twice its p50)
        self.rec = np.full((6, int(capacity_s / dt_s)), 0.0)
        self.n = 0
        self._stop_acted = 0
        self._q = self.q.data  # its items read as floats, at a fraction of NumPy's cost
        self._pending = list(EVENTS)  # the events not yet seen, in order
        self._stop_limits = [
            (name, lim)
            for name, lim in (window.limits.items() if window else ())
            if lim.action == "stop" and name in GROWING
        ]
        self.clipped: set[str] = set()  # stream channels seen at their full scale

    def saturated(self, channels: tuple[int, ...]) -> None:
        """Note the stream's channels (indices) that a saturated frame had at full scale:
        the weld cannot be judged on what they show."""
        self.clipped.update(STREAM_CHANNELS[c] for c in channels if c < len(STREAM_CHANNELS))

    def feed(self, block: np.ndarray) -> Decision:
        """Take a block (n, 4: A, V, N, µm) and return its events and STOP decision.

        This is the decision's whole path, once a millisecond: it allocates nothing for a
        block that changes nothing (7.5 → 2.5 µs a block, 1 µs of which is the kernel).
        """
        n, width = block.shape
        if width != 4:
            raise ValueError(f"a block has 4 columns (A, V, N, µm), not {width}")
        a, b = self.n, self.n + n
        if b > self.rec.shape[1]:
            grown = np.empty((6, max(2 * self.rec.shape[1], b)))
            grown[:, :a] = self.rec[:, :a]
            self.rec = grown
        K.monitor_record(
            self.mp, self.q, np.ascontiguousarray(block), self.env_lo, self.env_hi, self.rec, a
        )
        self.n = b
        q = self._q
        events: list[tuple[str, float]] = []
        for event in self._pending:
            if q[event[1]] >= 0.0:
                events.append((event[0], q[event[1]]))
        if events:
            self._pending = [e for e in self._pending if q[e[1]] < 0.0]
        new = int(q[K.Q_STOP]) & ~self._stop_acted
        self._stop_acted |= new
        reasons = [text for bit, text in STOP_NAMES.items() if new & bit] if new else []
        if self._stop_limits and q[K.Q_T_ON] >= 0.0:
            feats = self.features()
            for name, lim in list(self._stop_limits):
                value = feats[name]
                if value is not None and lim.max is not None and value > lim.max:
                    self._stop_limits.remove((name, lim))
                    reasons.append(f"{name} above {lim.max:.4g} (limit action STOP)")
        if not events and not reasons:
            return QUIET
        return Decision(tuple(events), bool(reasons), tuple(reasons))

    def display(self, n: int) -> np.ndarray:
        """Return the last n samples as the operator sees them: (n, 7) of t (s from the
        monitor's start), I (A), V (V), R (mΩ, NaN without current), P (W), F (N), set-down
        (µm, 0 before contact)."""
        a = max(self.n - n, 0)
        out = np.empty((self.n - a, 7))
        contact = self.q[K.Q_CONTACT] > 0.5
        K.display_rows(self.rec, a, self.dt_s, self.q[K.Q_X_CONTACT] if contact else math.nan, out)
        return out

    def wave(self) -> np.ndarray:
        """Return the weld as the stream delivered it: (n, 4) of A, V, N, µm (a copy)."""
        return np.ascontiguousarray(self.rec[:4, : self.n].T)

    def features(self) -> dict[str, float | None]:
        """Return the weld's features so far (units in the names)."""
        q = self.q
        on = q[K.Q_ON_N]
        t_on = q[K.Q_T_ON]
        burn = q[K.Q_T_BURN]
        r_last = q[K.Q_R_LAST]
        return {
            "weld_time_ms": on * self.dt_s * 1e3,
            "energy_j": q[K.Q_ENERGY_J],
            "peak_current_a": q[K.Q_I_PEAK],
            "rms_current_a": math.sqrt(q[K.Q_I2_SUM] / on) if on else 0.0,
            "r_end_mohm": r_last * 1e3 if not math.isnan(r_last) else None,
            "r_peak_mohm": q[K.Q_R_PEAK] * 1e3,
            # final set-down is the deepest the electrode went while on the part (the record
            # runs on past the retract, where the position no longer says anything)
            "setdown_um": q[K.Q_SETDOWN_MAX_UM],
            "setdown_pct": 100.0 * q[K.Q_SETDOWN_MAX_UM] / self.settings.wire_diameter_um,
            "burn_through_ms": (burn - t_on) * 1e3 if burn >= 0.0 and t_on >= 0.0 else None,
            "peak_force_n": q[K.Q_F_PEAK],
        }

    def events(self) -> dict[str, float]:
        """Return every event seen, with its time (s since the monitor started)."""
        out = {name: float(self.q[idx]) for name, idx in EVENTS if self.q[idx] >= 0.0}
        if self.q[K.Q_T_OFF] >= 0.0:
            out["current end"] = float(self.q[K.Q_T_OFF])
        return out

    def finish(self) -> WeldResult:
        """Return the features and the verdict, with every reason it is not a PASS."""
        feats = self.features()
        env = None
        if self.q[K.Q_ENV_T] >= 0.0:
            ch = CHANNELS[int(self.q[K.Q_ENV_CH])]
            value = self.q[K.Q_ENV_V] / CH_SCALE.get(ch, 1.0)
            t_ms = (self.q[K.Q_ENV_T] - self.q[K.Q_T_ON]) * 1e3
            env = f"{ch} {value:.4g} outside its envelope at {t_ms:.2f} ms"
        events = []
        if self.q[K.Q_T_EXPEL] >= 0.0:
            events.append("expulsion")
        if self.q[K.Q_T_ON] < 0.0:
            events.append("no current")
        reasons = judge(self.window, feats, env, events) if self.window else []
        if self.clipped:
            # whatever the window says: the features were computed from clipped samples
            shown = ", ".join(sorted(self.clipped))
            reasons.insert(0, f"saturated: {shown} at the stream's full scale")
        inhibit = bool(self.window) and any(
            lim.action == "inhibit" and any(r.startswith(f"{name} ") for r in reasons)
            for name, lim in (self.window.limits.items() if self.window else ())
        )
        return WeldResult(feats, "FAIL" if reasons else "PASS", reasons, self.events(), inhibit)

    def traces(self) -> dict[str, np.ndarray]:
        """Return the channels from the current start, in window units (for teaching)."""
        t_on = self.q[K.Q_T_ON]
        if t_on < 0.0:
            return {}
        a = round(t_on / self.dt_s)
        # the envelope covers the weld (current on): the hold and retract differ from station
        # to station, and the final set-down limit judges the hold
        t_off = self.q[K.Q_T_OFF]
        b = min(a + max(round((t_off - t_on) / self.dt_s), 0), self.n)
        rec = self.rec[:, a:b]
        x_contact = self.q[K.Q_X_CONTACT]
        return {
            "r_mohm": rec[4] * 1e3,
            "current_a": rec[0].copy(),
            "voltage_v": rec[1].copy(),
            "power_w": rec[5].copy(),
            "force_n": rec[2].copy(),
            "setdown_um": x_contact - rec[3],
        }


def replay(
    wave: np.ndarray, window: Window | None, dt_s: float = SAMPLE_PERIOD_S
) -> tuple[np.ndarray, dict[str, float]]:
    """Monitor a recorded weld (n, 4) again; return its rows as the operator sees them
    (Monitor.display) and its events (name → s)."""
    mon = Monitor(window=window, dt_s=dt_s, capacity_s=max(len(wave) * dt_s, 0.01))
    for a in range(0, len(wave), 1000):
        mon.feed(np.ascontiguousarray(wave[a : a + 1000], dtype=np.float64))
    return mon.display(mon.n), mon.events()
