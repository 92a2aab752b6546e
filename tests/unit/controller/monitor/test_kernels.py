"""The monitor kernel against its plain-Python reference, on random and simulated welds."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.monitor import kernels as K
from controller.monitor.monitor import settings_vector
from controller.monitor.reference import RefResult, reference
from controller.monitor.window import MonitorSettings
from firmware_sim import kernel as SK
from tests.helpers.paths import DIRECT, TC_INV
from tests.helpers.physics import simulate

DT = 2e-5  # the sample period, s


def run_kernel(
    monitor_settings: MonitorSettings,
    sig: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    splits: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the kernel over sig (n, 4) cut at the given split points."""
    mp = settings_vector(monitor_settings, DT)
    q = K.new_state()
    n = sig.shape[0]
    r = np.empty(n)
    p = np.empty(n)
    edges = [0, *sorted(s for s in splits if 0 < s < n), n]
    for a, b in itertools.pairwise(edges):
        K.monitor_block(mp, q, np.ascontiguousarray(sig[a:b]), lo, hi, r[a:b], p[a:b])
    return q, r, p


def assert_same(q: np.ndarray, r: np.ndarray, p: np.ndarray, ref: RefResult) -> None:
    """Assert the kernel's state and outputs equal the reference's."""
    pairs = {
        K.Q_ENERGY_J: ref.energy_j,
        K.Q_I2_SUM: ref.i2_sum,
        K.Q_I_PEAK: ref.i_peak,
        K.Q_ON_N: ref.on_n,
        K.Q_T_ON: ref.t_on,
        K.Q_T_OFF: ref.t_off,
        K.Q_T_CONTACT: ref.t_contact,
        K.Q_T_FIRING: ref.t_firing,
        K.Q_SETDOWN_UM: ref.setdown_um,
        K.Q_SETDOWN_MAX_UM: ref.setdown_max_um,
        K.Q_R_LAST: ref.r_last,
        K.Q_R_PEAK: ref.r_peak,
        K.Q_R_FIRST: ref.r_first,
        K.Q_T_BURN: ref.t_burn,
        K.Q_T_EXPEL: ref.t_expel,
        K.Q_T_TARGET: ref.t_target,
        K.Q_STOP: ref.stop,
        K.Q_T_STOP: ref.t_stop,
        K.Q_ENV_T: ref.env[0],
        K.Q_ENV_CH: ref.env[1],
        K.Q_F_PEAK: ref.f_peak,
        K.Q_P_PEAK: ref.p_peak,
    }
    for idx, want in pairs.items():
        got = q[idx]
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got), idx
        else:
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (idx, got, want)
    if ref.env[0] >= 0:
        assert math.isclose(q[K.Q_ENV_V], ref.env[2], rel_tol=1e-12)
    np.testing.assert_allclose(r, ref.r, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(p, ref.p, rtol=1e-12)


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def welds(
    draw: st.DrawFn,
) -> tuple[MonitorSettings, np.ndarray, np.ndarray, np.ndarray, list[int]]:
    n = draw(st.integers(1, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    on = (t > n // 5) & (t < 4 * n // 5)
    cur = np.where(on, rng.uniform(-50, 800, n), rng.normal(0, 2, n))
    volt = cur * rng.uniform(0.002, 0.02, n) + rng.normal(0, 0.01, n)
    force = np.minimum(t * draw(st.floats(0.01, 1.0)), 12.0) + rng.normal(0, 0.05, n)
    pos = 400.0 - np.cumsum(np.abs(rng.normal(0, draw(st.floats(0.0, 3.0)), n)))
    sig = np.column_stack([cur, volt, force, pos])
    monitor_settings = MonitorSettings(
        gate_a=draw(st.floats(1.0, 100.0)),
        contact_n=draw(st.floats(0.1, 2.0)),
        firing_n=draw(st.floats(2.0, 12.0)),
        setdown_target_um=draw(st.floats(0.0, 60.0)),
        r_drop_pct=draw(st.floats(0.0, 50.0)),
        energy_max_j=draw(st.floats(0.0, 5.0)),
        time_max_ms=draw(st.floats(0.0, 5.0)),
        burn_velocity_um_ms=draw(st.floats(0.5, 50.0)),
        velocity_window=draw(st.integers(1, 40)),
        expulsion_jump_um=draw(st.floats(0.0, 20.0)),
        expulsion_r_drop_pct=draw(st.floats(1.0, 50.0)),
        burn_fraction=draw(st.floats(0.1, 0.95)),
        r_gate_a=draw(st.floats(0.0, 300.0)),
    )
    n_env = draw(st.integers(0, n))
    lo = np.full((K.N_CH, max(n_env, 1)), np.nan)
    hi = np.full((K.N_CH, max(n_env, 1)), np.nan)
    for ch in draw(st.lists(st.integers(0, K.N_CH - 1), max_size=3)):
        centre = float(np.nanmedian(np.abs(sig[:, min(ch, 3)]))) if n else 0.0
        lo[ch] = -centre * draw(st.floats(0.0, 3.0))
        hi[ch] = centre * draw(st.floats(0.0, 3.0))
    splits = draw(st.lists(st.integers(0, n), max_size=8))
    return (
        monitor_settings,
        sig,
        lo[:, :n_env] if n_env else lo[:, :0],
        hi[:, :n_env] if n_env else hi[:, :0],
        splits,
    )


@settings(max_examples=300, deadline=None)
@given(welds())
def test_kernel_equals_reference_on_random_blocks(case) -> None:
    monitor_settings, sig, lo, hi, splits = case
    lo = np.ascontiguousarray(lo)
    hi = np.ascontiguousarray(hi)
    ref = reference(monitor_settings, DT, *sig.T, lo, hi)
    q, r, p = run_kernel(monitor_settings, sig, lo, hi, splits)
    assert_same(q, r, p, ref)


@settings(max_examples=100, deadline=None)
@given(welds(), st.lists(st.integers(0, 400), max_size=20))
def test_block_splits_never_change_the_result(case, other) -> None:
    monitor_settings, sig, lo, hi, _splits = case
    lo = np.ascontiguousarray(lo)
    hi = np.ascontiguousarray(hi)
    q1, r1, p1 = run_kernel(monitor_settings, sig, lo, hi, [])
    q2, r2, p2 = run_kernel(monitor_settings, sig, lo, hi, other)
    assert q1.tobytes() == q2.tobytes()
    assert r1.tobytes() == r2.tobytes() and p1.tobytes() == p2.tobytes()


def test_kernel_equals_reference_on_simulated_welds() -> None:
    for path, over in ((TC_INV, ()), (DIRECT, ()), (TC_INV, ("supply.weld1_voltage_v=2.7",))):
        res = simulate(path, *over)
        sig = np.ascontiguousarray(res.measured)
        monitor_settings = MonitorSettings(
            gate_a=20.0,
            contact_n=0.5,
            firing_n=11.0,
            setdown_target_um=40.0,
            r_drop_pct=5.0,
            burn_velocity_um_ms=5.0,
            velocity_window=10,
            expulsion_jump_um=5.0,
            expulsion_r_drop_pct=10.0,
            r_gate_a=0.0,  # R's peak, end and crest from every gated sample
        )
        lo = np.full((K.N_CH, 100), np.nan)
        hi = np.full((K.N_CH, 100), np.nan)
        hi[K.CH_I] = 5000.0
        ref = reference(monitor_settings, DT, *sig.T, lo, hi)
        q, r, p = run_kernel(monitor_settings, sig, lo, hi, list(range(0, len(sig), 97)))
        assert_same(q, r, p, ref)
        assert q[K.Q_ON_N] > 100 and q[K.Q_ENERGY_J] > 0.5
        assert SK.N_OUT == 4


def test_the_record_entry_equals_monitor_block() -> None:
    # monitor_record (what the Monitor calls) is monitor_block writing into the weld's record:
    # the same state and the same R and P, byte for byte, and the block's own columns kept
    res = simulate(TC_INV)
    sig = np.ascontiguousarray(res.measured)
    monitor_settings = MonitorSettings(
        gate_a=20.0,
        contact_n=0.5,
        firing_n=11.0,
        setdown_target_um=40.0,
        burn_velocity_um_ms=5.0,
        expulsion_jump_um=0.0,  # the expulsion check off
        expulsion_r_drop_pct=10.0,
        r_gate_a=0.0,  # R's peak, end and crest from every gated sample
    )
    lo = np.full((K.N_CH, 100), np.nan)
    hi = np.full((K.N_CH, 100), np.nan)
    hi[K.CH_I] = 5000.0
    q1, r1, p1 = run_kernel(monitor_settings, sig, lo, hi, list(range(0, len(sig), 50)))
    q2 = K.new_state()
    rec = np.full((6, len(sig) + 7), -9.0)
    mp = settings_vector(monitor_settings, DT)
    for a in range(0, len(sig), 50):
        K.monitor_record(mp, q2, np.ascontiguousarray(sig[a : a + 50]), lo, hi, rec, a)
    assert q1.tobytes() == q2.tobytes()
    assert rec[4, : len(sig)].tobytes() == r1.tobytes()
    assert rec[5, : len(sig)].tobytes() == p1.tobytes()
    np.testing.assert_array_equal(rec[:4, : len(sig)], sig.T)
    assert (rec[:, len(sig) :] == -9.0).all()  # nothing written past the block
    assert len(K.monitor_record.signatures) == 1


def test_no_compilation_can_happen_during_a_weld() -> None:
    # The kernel has one explicit signature, compiled (or loaded from cache) at import: a call
    # with other types is refused instead of compiling mid-weld.
    assert len(K.monitor_block.signatures) == 1
    monitor_settings = MonitorSettings(gate_a=10.0, contact_n=0.5, firing_n=5.0)
    sig = np.zeros((10, 4))
    lo = np.full((K.N_CH, 0), np.nan)
    run_kernel(monitor_settings, sig, lo, lo.copy(), [3])
    assert len(K.monitor_block.signatures) == 1
    f32 = np.zeros((10, 4), dtype=np.float32)  # the right shape, the wrong type
    mp = settings_vector(monitor_settings, DT)
    with pytest.raises(TypeError, match="No matching definition"):
        K.monitor_block(mp, K.new_state(), f32, lo, lo, np.empty(10), np.empty(10))
    assert len(K.monitor_block.signatures) == 1
