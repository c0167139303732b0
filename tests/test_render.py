"""Renderer tests, headless (SDL dummy driver): the ion rasteriser, golden images of known
states (every pump conformation with its bound ions; the panel with known numbers), and that
drawing never writes to the simulation's state.

Golden images live in tests/golden/. After an intended change of the drawing, regenerate
them with ``IONPUMP_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_render.py``, look at
the new PNGs, and commit them.
"""

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from particles import Simulation, load_scenario  # noqa: E402
from particles.state import Ions, Pumps, PumpState, Side, Species  # noqa: E402
from render.raster import K_RGB, NA_RGB, IonRaster  # noqa: E402
from render.scene import Scene, step_caption  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
REGEN = bool(os.environ.get("IONPUMP_REGEN_GOLDEN"))


# ---------------------------------------------------------------- raster

def _ions(xs, ys, species, side=None, bound=None, tracer=None):
    n = len(xs)
    return Ions(np.array(xs, float), np.array(ys, float), np.array(species, np.int8),
                np.array(side if side is not None else [0] * n, np.int8),
                np.array(bound if bound is not None else [False] * n),
                np.array(tracer if tracer is not None else [False] * n))


def test_raster_places_colours_and_skips():
    img = np.full((40, 60, 3), 255, np.uint8)
    ions = _ions([1.0, 3.0, 5.0, 2.0], [1.0, 2.0, 3.0, 2.0], [0, 1, 0, 1],
                 side=[0, 1, 2, 0], bound=[False, False, False, True])
    n = IonRaster().draw(img, ions, (0.0, 0.0, 10.0, 0.0, 0.0), (0, 0, 60, 40), 2.5)
    assert n == 2  # reservoir and bound ions are not drawn
    assert tuple(img[10, 10]) == NA_RGB        # Na+ at (1, 1) µm -> (10, 10) px
    assert tuple(img[20, 30]) == K_RGB         # K+ at (3, 2) µm -> (30, 20) px
    assert tuple(img[30, 50]) == (255, 255, 255)  # the reservoir ion is not there
    assert tuple(img[20, 20]) == (255, 255, 255)  # nor the bound one


def test_raster_clips():
    img = np.zeros((20, 20, 3), np.uint8)
    ions = _ions([0.5, 1.9], [0.5, 1.9], [0, 0])
    IonRaster().draw(img, ions, (0.0, 0.0, 10.0, 0.0, 0.0), (0, 0, 10, 10), 3.0)
    assert img[:10, :10].any()
    assert not img[10:, :].any() and not img[:, 10:].any()


def test_tracer_is_ringed():
    img = np.full((30, 30, 3), 255, np.uint8)
    ions = _ions([1.5], [1.5], [0], tracer=[True])
    IonRaster().draw(img, ions, (0.0, 0.0, 10.0, 0.0, 0.0), (0, 0, 30, 30), 5.0)
    assert img[15, 15].max() < 80                     # dark core
    assert tuple(img[15, 19]) == NA_RGB               # vermillion ring near the edge


# ---------------------------------------------------------------- known states

def _known_sim(n_pumps=7, seed=3):
    """pump-cycle geometry with hand-made ions and pumps (not from the core's RNG), so the
    picture depends only on the renderer."""
    sc = load_scenario("pump-cycle", overrides={"pumps.count": 5, "domain.height_um": 0.4})
    sim = Simulation(sc, seed=1)
    g = sim.geometry
    rng = np.random.default_rng(seed)
    n = 400
    x = np.where(np.arange(n) < n // 2, rng.uniform(0, g.x_in_face, n),
                 rng.uniform(g.x_out_face, g.width_um, n))
    side = (np.arange(n) >= n // 2).astype(np.int8)
    species = np.where(side == 0, (rng.random(n) < 0.9), (rng.random(n) < 0.1)).astype(np.int8)
    ions = Ions(x, rng.uniform(0, g.height_um, n), species, side, np.zeros(n, bool),
                np.zeros(n, bool))
    ions.tracer[:20] = ions.species[:20] == Species.NA
    pumps = Pumps.evenly_spaced(n_pumps, g.height_um)
    states = [PumpState.E1, PumpState.E1_3NA, PumpState.E1P_3NA, PumpState.E2P,
              PumpState.E2P_2K, PumpState.E2_2K, PumpState.BLOCKED]
    na = [i for i in range(n) if ions.species[i] == Species.NA and ions.side[i] == 0]
    k = [i for i in range(n) if ions.species[i] == Species.K and ions.side[i] == 1]
    fill = {PumpState.E1: (2, 0), PumpState.E1_3NA: (3, 0), PumpState.E1P_3NA: (3, 0),
            PumpState.E2P: (1, 1), PumpState.E2P_2K: (0, 2), PumpState.E2_2K: (0, 2),
            PumpState.BLOCKED: (0, 0)}
    for p in range(n_pumps):
        st = states[p % len(states)]
        pumps.state[p] = st
        a, b = fill[st]
        for j in range(a):
            ion = na.pop()
            pumps.sites[p, j] = ion
            ions.bound[ion] = True
        for j in range(b):
            ion = k.pop()
            pumps.sites[p, 3 + j] = ion
            ions.bound[ion] = True
        pumps.n_na[p], pumps.n_k[p] = a, b
        pumps.cycles[p] = 10 + p
    sim.ions, sim.pumps = ions, pumps
    sim.phase = "K-free"
    t = np.linspace(0.0, 10.0, 41)
    sim.recorder.rows = [
        {"time_ms": float(ti), "na_in_mM": 12.0 - 0.2 * ti, "na_out_mM": 145.0,
         "k_in_mM": 140.0 + 0.1 * ti, "k_out_mM": 5.0 * np.exp(-ti / 3), "atp_mM": 2.5,
         "v_mV": -70.0 + 2.0 * np.sin(ti), "cycles": int(14 * ti), "tracer_in": 20,
         "tracer_efflux": 0, "na_in": 0, "k_out": 0, "spikes": 0, "i_stim_uA_cm2": 0.0}
        for ti in t]
    sim.step_index = int(round(10.0 / sim.dt_ms))
    return sim


def _draw(sim, size, follow=-1, frames=1):
    scene = Scene(size, fps=30)
    scene.set_follow(follow)
    for _ in range(frames):
        img = scene.draw(sim)
    return img.copy()


def _compare(img, name):
    path = GOLDEN / name
    if REGEN or not path.exists():
        if not REGEN:
            pytest.fail(f"{path} missing: run with IONPUMP_REGEN_GOLDEN=1 to create it")
        GOLDEN.mkdir(exist_ok=True)
        pygame.image.save(pygame.image.frombuffer(img.tobytes(), img.shape[1::-1], "RGB"),
                          str(path))
        return 0.0, 0.0
    ref = pygame.surfarray.array3d(pygame.image.load(str(path))).swapaxes(0, 1)
    assert ref.shape == img.shape, f"{name}: size {img.shape} vs golden {ref.shape}"
    diff = np.abs(img.astype(int) - ref.astype(int))
    return float(diff.mean()), float(np.mean(diff.max(axis=2) > 48))


TOL_MEAN, TOL_FRAC = 0.5, 0.001  # mean |diff| per channel; fraction of pixels off by > 48


def test_golden_pump_conformations():
    sim = _known_sim()
    img = _draw(sim, (960, 540), follow=3)
    mean, frac = _compare(img, "pumps_960x540.png")
    assert mean < TOL_MEAN and frac < TOL_FRAC, (mean, frac)


def test_golden_hud_numbers():
    sim = _known_sim()
    img = _draw(sim, (1280, 720), follow=1)
    panel = np.ascontiguousarray(img[:, 900:])
    mean, frac = _compare(panel, "hud_1280x720.png")
    assert mean < TOL_MEAN and frac < TOL_FRAC, (mean, frac)


def test_golden_comparison_detects_a_changed_state():
    """The tolerance is tight enough that one pump in another conformation fails."""
    if REGEN:
        pytest.skip("regenerating")
    sim = _known_sim()
    sim.pumps.state[0] = PumpState.E2P  # inward-open drawn as outward-open
    img = _draw(sim, (960, 540), follow=3)
    mean, frac = _compare(img, "pumps_960x540.png")
    assert frac >= TOL_FRAC or mean >= TOL_MEAN, (mean, frac)


def test_golden_hud_detects_a_changed_number():
    if REGEN:
        pytest.skip("regenerating")
    sim = _known_sim()
    sim.recorder.rows[-1] = dict(sim.recorder.rows[-1], atp_mM=0.25, v_mV=-12.0)
    img = _draw(sim, (1280, 720), follow=1)
    mean, frac = _compare(np.ascontiguousarray(img[:, 900:]), "hud_1280x720.png")
    assert frac > 0 and (frac >= TOL_FRAC or mean >= TOL_MEAN), (mean, frac)


# ---------------------------------------------------------------- the renderer is a reader

def _checksum(sim):
    parts = [a.tobytes() for a in sim.ions.arrays().values()]
    parts += [a.tobytes() for a in sim.pumps.arrays().values()]
    parts += [sim.env.tobytes(), sim.counters.tobytes(), sim.par.tobytes(),
              sim.bath_target.tobytes(), repr((sim.step_index, sim.phase,
                                               len(sim.recorder.rows))).encode()]
    ch = getattr(sim, "channels", None)
    if ch is not None:
        parts += [ch.y.tobytes(), ch.type.tobytes()]
    import hashlib

    return hashlib.sha256(b"".join(parts)).hexdigest()


@pytest.mark.parametrize("size", [(1280, 720), (480, 270)])
def test_drawing_never_writes_state(size):
    sim = Simulation(load_scenario("pump-cycle"), seed=2)
    scene = Scene(size, fps=30)
    scene.set_follow(1)
    for _ in range(6):
        sim.step(300)
        before = _checksum(sim)
        scene.draw(sim)
        scene.pick_pump(sim, (size[0] // 3, size[1] // 2))
        assert _checksum(sim) == before


def test_release_flashes_and_atp_puffs_appear():
    """Over a few frames of pump-cycle the renderer sees ions leave pumps and pumps
    phosphorylate (its own memory of the previous frame)."""
    sim = Simulation(load_scenario("pump-cycle"), seed=1)
    scene = Scene((640, 400), fps=30)
    seen_flash = seen_puff = False
    for _ in range(150):
        sim.step(213)
        scene.draw(sim)
        seen_flash |= bool(scene.flashes)
        seen_puff |= any(p.text == "ADP" for p in scene.puffs)
        if seen_flash and seen_puff:
            break
    assert seen_flash and seen_puff


def test_step_captions_cover_every_state():
    texts = {step_caption(s, n, k) for s, n, k in
             [(0, 0, 0), (0, 2, 0), (1, 3, 0), (2, 3, 0), (3, 2, 0), (3, 0, 1), (4, 0, 2),
              (5, 0, 2), (6, 0, 0)]}
    assert len(texts) == 9
    assert "3 Na⁺ bound" in step_caption(1, 3, 0)
    assert "Na⁺ released" in step_caption(3, 2, 0)


@pytest.mark.parametrize("size", [(1024, 640), (3840, 2160), (320, 180)])
def test_layout_sizes(size):
    sim = Simulation(load_scenario("pump-cycle"), seed=1)
    img = Scene(size, fps=30).draw(sim)
    assert img.shape == (size[1], size[0], 3)
    assert len(np.unique(img.reshape(-1, 3)[::97], axis=0)) > 20  # not blank
