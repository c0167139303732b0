"""The physics derived from scenario values (particles/physics.py) and the loader's memory
check (particles/memory.py): the species table agrees with the codes and the schema,
conversions invert, channel pores never overlap pump faces, and a domain too large for this
machine is refused in one line."""

from __future__ import annotations

import math

import pytest

from particles import config, physics
from particles.config import SCHEMA, ScenarioError, load_scenario
from particles.memory import available_memory_bytes
from particles.state import Species


def test_species_table_follows_the_codes_and_the_schema():
    assert physics.SPECIES == ("na", "k")
    assert [physics.SPECIES.index(s.name.lower()) for s in Species] == [int(s) for s in Species]
    for stem in physics.SPECIES:
        for key in ("D", "inside_mM", "outside_mM"):
            assert f"ions.{stem}.{key}" in SCHEMA
    for kind, stem in physics.CHANNEL_KINDS:
        assert stem in physics.SPECIES
        assert f"channels.{kind}_count" in SCHEMA and f"channels.{kind}_per_mM_ms" in SCHEMA


def test_counts_and_concentrations_invert():
    area, depth = 0.4, 0.002
    n = physics.mM_to_count(140.0, area, depth)
    assert n == round(140.0 * area * depth * physics.AVOGADRO_PER_UM3_MM)
    assert math.isclose(physics.count_to_mM(physics.mM_to_mean_count(140.0, area, depth),
                                            area, depth), 140.0)


def test_initial_ion_count_sums_every_species_and_side():
    v = load_scenario("resting").values
    a_in, a_out = physics.compartment_areas(v)
    h = v["domain.depth_um"]
    groups = [(v[f"ions.{s}.inside_mM"], a_in) for s in ("na", "k")] + \
        [(v[f"ions.{s}.outside_mM"], a_out) for s in ("na", "k")]
    assert physics.initial_ion_count(v) == sum(physics.mM_to_count(c, a, h) for c, a in groups)
    assert math.isclose(physics.expected_ion_count(v), physics.initial_ion_count(v),
                        rel_tol=1e-3)


@pytest.mark.parametrize("name", config.builtin_names())
def test_pores_fit_between_pump_faces(name):
    v = load_scenario(name).values
    ys, types = physics.channel_layout(v)
    assert len(ys) == len(types) == physics.channel_count(v)
    w, H, m, face = v["channels.pore_um"], v["domain.height_um"], v["pumps.count"], \
        v["pumps.face_um"]
    assert ys == sorted(ys) and all(b - a >= w * (1 - 1e-9) for a, b in zip(ys, ys[1:]))
    for y in ys:
        assert w / 2 * (1 - 1e-9) <= y <= H - w / 2 * (1 - 1e-9)
        for p in range(m):
            assert abs(y - (p + 0.5) * H / m) >= (w + face) / 2 * (1 - 1e-9)
    bins = physics.channel_bins(ys, w, H) if ys else []
    assert all(-1 <= q < len(ys) for q in bins)
    assert v["time.dt_ms"] <= physics.max_safe_dt(v) * (1 + 1e-9)


def test_too_many_pores_is_refused_with_the_room_there_is():
    with pytest.raises(ScenarioError, match=r"^scenarios/resting.toml: channels: .* do not fit"
                       r" between .* \(room for \d+\)$"):
        load_scenario("resting", overrides={"channels.k_leak_count": 90_000})


def test_a_domain_too_large_for_this_machine_is_refused(monkeypatch):
    assert available_memory_bytes() is None or available_memory_bytes() > 0
    monkeypatch.setattr(config, "available_memory_bytes", lambda: 1024)
    with pytest.raises(ScenarioError, match=r"^scenarios/resting.toml: domain: [\d,]+ ions "
                       r"would need about [\d.]+ GiB but this machine has 0.0 GiB available"):
        load_scenario("resting")
