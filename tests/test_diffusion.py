"""Free diffusion: MSD = 4 D t, conservation, reflection, uniform equilibrium (issue 2)."""

import numpy as np
import pytest
from scipy import stats

from particles import Side, Species

from .conftest import FREE_BOX


def test_msd_equals_4Dt_per_species(make_sim):
    sim = make_sim(overrides=FREE_BOX)
    g = sim.geometry
    x0, y0 = sim.ions.x.copy(), sim.ions.y.copy()
    side = sim.ions.side.copy()
    nsteps = 200
    t = nsteps * sim.dt_ms
    sim.step(nsteps)
    for sp, D in ((Species.NA, sim.scenario["ions.na.D"]), (Species.K, sim.scenario["ions.k.D"])):
        margin = 5 * np.sqrt(2 * D * t)  # reflections are then negligible (p < 1e-6)
        lo = np.where(side == Side.INSIDE, 0.0, g.x_out_face) + margin
        hi = np.where(side == Side.INSIDE, g.x_in_face, g.width_um) - margin
        sel = ((sim.ions.species == sp) & (x0 > lo) & (x0 < hi)
               & (y0 > margin) & (y0 < g.height_um - margin))
        r2 = (sim.ions.x[sel] - x0[sel]) ** 2 + (sim.ions.y[sel] - y0[sel]) ** 2
        n = sel.sum()
        assert n > 1000
        expected = 4 * D * t
        # In 2-D r² is exponential with mean 4Dt, so its sample mean has s.e. 4Dt/sqrt(n).
        se = expected / np.sqrt(n)
        assert abs(r2.mean() - expected) < 4 * se, (sp, r2.mean(), expected, se)
        # and per axis: variance 2Dt each, no drift
        dx = sim.ions.x[sel] - x0[sel]
        assert abs(dx.mean()) < 4 * np.sqrt(2 * D * t / n)


@pytest.mark.slow
def test_conservation_and_no_crossing_without_proteins(make_sim):
    over = dict(FREE_BOX, **{"domain.width_um": 1.0, "domain.height_um": 0.5,
                             "domain.depth_um": 2e-6, "time.dt_ms": 2e-4})
    sim = make_sim(overrides=over)
    g = sim.geometry
    side0 = sim.ions.side.copy()
    counts0 = np.bincount(sim.ions.species * 2 + sim.ions.side, minlength=4)
    for _ in range(10):
        sim.step(10_000)
        i = sim.ions
        assert np.array_equal(i.side, side0), "an ion changed compartment without a protein"
        inside = i.side == Side.INSIDE
        assert np.all(i.x[inside] >= 0) and np.all(i.x[inside] < g.x_in_face)
        assert np.all(i.x[~inside] > g.x_out_face) and np.all(i.x[~inside] <= g.width_um)
        assert np.all((i.y >= 0) & (i.y <= g.height_um))
    assert sim.step_index == 100_000
    counts = np.bincount(sim.ions.species * 2 + sim.ions.side, minlength=4)
    assert np.array_equal(counts, counts0)


def test_equilibrium_is_uniform_in_each_compartment(make_sim):
    over = dict(FREE_BOX, **{"domain.width_um": 2.0, "domain.height_um": 1.0,
                             "domain.depth_um": 1e-5, "time.dt_ms": 1e-3})
    sim = make_sim(overrides=over)
    g = sim.geometry
    i = sim.ions
    # Start every ion in one corner of its compartment, far from equilibrium.
    inside = i.side == Side.INSIDE
    i.x[inside] = 0.05 * g.x_in_face
    i.x[~inside] = g.width_um - 0.01
    i.y[:] = 0.02
    # Relaxation time ~ L²/(π² D) ≈ 0.1 ms; run 10 ms.
    sim.step(10_000)
    for sel, lo, hi in ((inside, 0.0, g.x_in_face), (~inside, g.x_out_face, g.width_um)):
        h, _, _ = np.histogram2d(i.x[sel], i.y[sel], bins=8, range=[[lo, hi], [0, g.height_um]])
        chi2, p = stats.chisquare(h.ravel())
        assert p > 1e-3, (chi2, p)
