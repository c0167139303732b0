"""The numba kernels against a slow NumPy reference, and determinism (issue 2)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from particles import kernels as kn
from particles import layout, rng

from . import reference as ref


def test_rng_matches_reference_and_is_normal():
    from numba import njit

    @njit
    def gen(n, seed):
        k = rng.step_key(seed, layout.STREAM_MOVE, 7)
        kt = rng.step_key(seed, layout.STREAM_MOVE_TAIL, 7)
        out = np.empty(2 * n)
        for i in range(n):
            out[2 * i], out[2 * i + 1] = rng.normal_pair(rng.draw(k, i), kt, i)
        return out

    z = gen(1_000_000, 5)
    k, kt = ref.step_key(5, layout.STREAM_MOVE, 7), ref.step_key(5, layout.STREAM_MOVE_TAIL, 7)
    for i in (0, 1, 17, 999_999):
        b = ref.draw(k, i)
        assert z[2 * i] == pytest.approx(ref.normal32(b & 0xFFFFFFFF, kt, 2 * i), abs=1e-12)
        assert z[2 * i + 1] == pytest.approx(ref.normal32(b >> 32, kt, 2 * i + 1), abs=1e-12)
    n = z.size
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1) < 4 * np.sqrt(2 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[:-1:2], z[1::2])[0, 1]) < 4 / np.sqrt(n / 2)


def test_fast_path_pairs_are_normal_pairs_and_flag_the_rest():
    """The move's branch-free fast path gives exactly normal_pair's deviates for every pair
    it does not flag, and flags a pair exactly when one of its two deviates takes the slow
    path (256 layers: about 1.3 % of deviates, tails included)."""
    from numba import njit

    @njit
    def both(i0, n, seed):
        k = rng.step_key(seed, layout.STREAM_MOVE, 3)
        kt = rng.step_key(seed, layout.STREAM_MOVE_TAIL, 3)
        fast, ref = np.empty((n, 2)), np.empty((n, 2))
        flag = np.empty(n, np.bool_)
        slow = np.empty((n, 2), np.bool_)
        for i in range(i0, i0 + n):
            b = rng.draw(k, i)
            fast[i - i0, 0], fast[i - i0, 1], flag[i - i0] = rng.normal_pair_fast(b)
            ref[i - i0, 0], ref[i - i0, 1] = rng.normal_pair(b, kt, i)
            slow[i - i0, 0] = rng._fast_bits(b & np.uint64(0xFFFFFFFF))[2]
            slow[i - i0, 1] = rng._fast_bits(b >> np.uint64(32))[2]
        return fast, ref, flag, slow

    fast, ref, flag, slow = both(12_345, 200_000, 2)
    assert np.array_equal(fast[~flag], ref[~flag])
    assert np.array_equal(flag, slow.any(axis=1))
    n = slow.size
    assert abs(slow.mean() - 0.013) < 5 * np.sqrt(0.013 / n) + 0.001
    assert np.count_nonzero(np.abs(ref[flag]) > rng.ZIG_R) > 0, "tail deviates are flagged"


def test_move_kernel_equals_numpy_reference(make_sim):
    sim = make_sim("pump-cycle", overrides={"pumps.kon_na_per_mM_ms": 20.0,
                                            "pumps.kon_k_per_mM_ms": 20.0,
                                            "pumps.kon_na_congener_per_mM_ms": 5.0})
    sim.step(200)  # some ions now bound
    i, p, g = sim.ions, sim.pumps, sim.geometry
    # open faces on both sides (the move only reads the pump arrays)
    # (Na+ and K+ on an empty E1, K+ and congener Na+ on E2P, Na+ rebinding on E2P)
    p.state[:] = [layout.E1, layout.E2P, layout.E2P]
    p.n_na[:] = [0, 0, 2]
    p.n_k[:] = [0, 1, 0]
    sigma = sim.par[layout.PAR_SIGMA:layout.PAR_SIGMA + layout.N_SPECIES]
    p_stick = sim.par[layout.PAR_P_STICK:layout.PAR_P_STICK + layout.N_P_STICK]
    scratch = kn.scratch(len(i))  # passage probabilities 0: no pore passes, as the reference
    scratch.rate[layout.R_STICK_REBIND] = 0.3
    total_props = 0
    all_props = set()
    for step in range(sim.step_index, sim.step_index + 20):
        rx, ry, rprops = ref.move(i.x, i.y, i.species, i.side, i.bound, sigma, sim.seed, step,
                                  g.width_um, g.height_um, g.x_in_face, g.x_out_face, p.y,
                                  p.state, p.n_na, p.n_k, g.pump_face_um / 2, p_stick,
                                  scratch.rate[layout.R_STICK_REBIND])
        kn.move(sim.seed, step, i.kernel_arrays(), p.kernel_arrays(),
                sim.channels.kernel_arrays(), sim.par, scratch)
        np.testing.assert_allclose(i.x, rx, rtol=0, atol=1e-12)
        np.testing.assert_allclose(i.y, ry, rtol=0, atol=1e-12)
        props = [(int(scratch.prop_ion[c * kn.CHUNK + j]),
                  int(scratch.prop_pump[c * kn.CHUNK + j]))
                 for c in range(len(scratch.prop_count)) for j in range(scratch.prop_count[c])]
        assert props == rprops
        total_props += len(props)
        all_props |= {pp for _, pp in props}
    assert total_props > 0, "the comparison should include capture proposals"
    assert all_props >= {2, 1 + len(p)}, "rebinding and congener proposals should be included"


def _run_table(threads: int, seed: int, tmp_path) -> bytes:
    out = tmp_path / f"t{threads}-s{seed}.csv"
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    r = subprocess.run([sys.executable, "-m", "particles", "run", "pump-cycle", "--duration",
                        "2", "--seed", str(seed), "--set", "pumps.kon_na_per_mM_ms=2",
                        "--out", str(out), "--quiet"], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


def test_same_seed_identical_with_1_and_2_threads(tmp_path):
    one = _run_table(1, 7, tmp_path)
    two = _run_table(2, 7, tmp_path)
    assert one == two
    other = _run_table(2, 8, tmp_path)
    assert other != two


def test_bath_exchange_holds_the_mean_count_not_a_rounded_one():
    """A zone meant to hold 1.5 K+ and 7 Na+ ions holds 1.5 on average (dithered between 1
    and 2), not round(1.5) = 2, and exactly 7 Na+ every time; conservation counters agree."""
    n = 64
    x = np.zeros(n)
    y = np.zeros(n)
    species = np.where(np.arange(n) % 2 == 0, layout.NA, layout.K).astype(np.int8)
    side = np.full(n, layout.RESERVOIR, np.int8)
    ions = layout.IonArrays(x, y, species, side, np.zeros(n, np.bool_), np.zeros(n, np.bool_))
    par = np.zeros(layout.N_PAR)  # the bath zone is 1 < x < 2 µm of a box 1 µm high
    par[[layout.PAR_BATH_X0, layout.PAR_WIDTH, layout.PAR_HEIGHT]] = [1.0, 2.0, 1.0]
    env = np.zeros(layout.N_ENV)
    env[layout.ENV_BATH_ON] = 1.0
    target = np.zeros(layout.N_TARGET)
    target[layout.TARGET_BATH + layout.NA] = 7.0
    target[layout.TARGET_BATH + layout.K] = 1.5
    counters = np.zeros(layout.N_COUNTERS, np.int64)
    steps = 4000
    k_counts = np.empty(steps)
    for step in range(steps):
        assert kn.exchanges(11, step, ions, par, env, target, counters)
        in_zone = (side == layout.OUTSIDE) & (x > 1.0) & (x < 2.0)
        assert np.count_nonzero(in_zone & (species == layout.NA)) == 7
        k_counts[step] = np.count_nonzero(in_zone & (species == layout.K))
    assert set(np.unique(k_counts)) == {1.0, 2.0}
    se = 0.5 / np.sqrt(steps)  # Bernoulli(0.5) part
    assert abs(k_counts.mean() - 1.5) < 4 * se, k_counts.mean()
    added, removed = counters[layout.C_BATH_ADDED:], counters[layout.C_BATH_REMOVED:]
    assert added[layout.NA] - removed[layout.NA] == 7
    assert added[layout.K] - removed[layout.K] == k_counts[-1]
