"""Property-based test of the public API and the protocol events (issue 18): generated calls
of :meth:`Simulation.apply_event`, ``step``, ``run`` and ``set_value`` with valid and invalid
names, parameters and values are each either applied (and the run goes on cleanly, its
invariants intact) or answered with one :class:`ScenarioError` line, the same validator and
messages as scenario files; never another exception.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from particles import Simulation, load_scenario
from particles.config import PROTOCOL_EVENTS, SCHEMA, ScenarioError

SMALL = {"domain.depth_um": 2e-5, "pumps.count": 4, "time.sample_ms": 0.05,
         "bath.clamped": True, "bath.zone_um": 0.2, "ions.max_count": 50_000}
SETTINGS = dict(deadline=None, max_examples=100, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

ANY = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                st.sampled_from(["na", "k", "inside", "outside", "ions.k.outside_mM",
                                 "atp.initial_mM", "pumps.count", "time.dt_ms"]))
NUMBER = st.one_of(st.floats(-1e3, 1e3), st.integers(-5, 5000), ANY)
PARAM = {"mM": NUMBER, "fraction": NUMBER, "interval_ms": NUMBER, "count": NUMBER,
         "species": ANY, "side": ANY, "key": st.sampled_from(list(SCHEMA) + ["nope"]),
         "value": NUMBER}


@st.composite
def events(draw):
    action = draw(st.sampled_from([*PROTOCOL_EVENTS, "explode", ""]))
    names = list(PROTOCOL_EVENTS.get(action, ())) + draw(
        st.lists(st.sampled_from(list(PARAM) + ["bogus"]), max_size=2))
    params = {k: draw(PARAM.get(k, ANY)) for k in names if draw(st.booleans()) or
              k in PROTOCOL_EVENTS.get(action, ())}
    return action, params


_SIM: list[Simulation] = []


def sim() -> Simulation:
    if not _SIM:
        _SIM.append(Simulation(load_scenario("resting", overrides=SMALL), seed=3))
    return _SIM[0]


def one_line(e: ScenarioError) -> None:
    assert "\n" not in str(e) and str(e).count(": ") >= 1


def invariants(s: Simulation) -> None:
    assert len(s.ions) <= s.scenario.values["ions.max_count"]
    assert np.isfinite(s.ions.x).all() and np.isfinite(s.env).all()
    assert s.scenario.values["ions.k.outside_mM"] >= 0


@settings(**SETTINGS)
@given(st.lists(events(), min_size=1, max_size=3), st.integers(-3, 20))
def test_events_apply_cleanly_or_fail_in_one_line(evs, steps):
    s = sim()
    for action, params in evs:
        try:
            s.apply_event(action, **params)
        except ScenarioError as e:
            one_line(e)
    try:
        s.step(steps)
    except ScenarioError as e:
        one_line(e)
        assert steps < 0
    invariants(s)


@settings(**SETTINGS)
@given(st.sampled_from(list(SCHEMA) + ["nope", ""]), NUMBER)
def test_set_value_is_checked_like_a_scenario_file(key, value):
    s = sim()
    try:
        s.set_value(key, value)
    except ScenarioError as e:
        one_line(e)
    invariants(s)


@settings(**SETTINGS)
@given(st.one_of(NUMBER, st.none()), st.one_of(ANY, st.dictionaries(st.text(max_size=5),
                                                                      NUMBER, max_size=2)))
def test_run_and_load_arguments(duration, overrides):
    s = sim()
    valid = isinstance(duration, (int, float)) and not isinstance(duration, bool) and \
        math.isfinite(duration) and duration >= 0
    try:
        s.run(0.01 if valid or duration is None else duration)  # valid ones: kept short
    except ScenarioError as e:
        one_line(e)
        assert not valid and duration is not None
    try:
        load_scenario("pump-cycle", overrides=overrides)
    except ScenarioError as e:
        one_line(e)
    invariants(s)
