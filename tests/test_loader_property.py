"""Property-based tests of the scenario loader (issue 8): thousands of generated bad documents
(random TOML trees, wrong types, random keys and values, valid scenarios with one value
broken, random protocols, random text and bytes) are each either accepted or answered with
the loader's own :class:`ScenarioError` in one line, never with another exception.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from importlib import resources

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from particles.config import (PROTOCOL_EVENTS, SCHEMA, Scenario, ScenarioError, load_scenario,
                              parse, parse_assignment, tomllib)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)
KEYS = list(SCHEMA)
TABLES = sorted({k.rsplit(".", 1)[0] for k in KEYS})


# ------------------------------------------------------------------ a small TOML writer

def toml_key(k: str) -> str:
    return json.dumps(k)  # always quoted: any text is a valid key


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dumps(doc: dict) -> str:
    """TOML text for ``doc``: scalars first, then one [table] per dict (nested inline)."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items()
             if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"[{toml_key(k)}]")
            lines += [f"{toml_key(kk)} = {toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ strategies

scalars = st.one_of(
    st.integers(min_value=-2**63, max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from([0, -1, 1, 0.0, -0.0, 1e-300, 1e300, "true", "1e-4", "nan", ""]),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    st.dates(min_value=dt.date(1900, 1, 1)),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=8)
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(TABLES), st.text(max_size=15),
                 st.sampled_from(KEYS).map(lambda k: k.replace("_", "")))


def nested(flat: dict) -> dict:
    """Dotted keys -> nested tables; a clash keeps the first value."""
    out: dict = {}
    for key, v in flat.items():
        parts = key.split(".") if key else [key]
        d = out
        ok = True
        for p in parts[:-1]:
            nxt = d.setdefault(p, {})
            if not isinstance(nxt, dict):
                ok = False
                break
            d = nxt
        if ok and parts[-1] not in d:
            d[parts[-1]] = v
    return out


random_docs = st.dictionaries(keys, values, max_size=8).map(nested)

events = st.tuples(st.fixed_dictionaries(
    {"at_ms": st.one_of(st.floats(allow_nan=True), st.integers(-5, 50), st.text(max_size=3))},
    optional={"do": st.one_of(st.sampled_from(list(PROTOCOL_EVENTS)), st.text(max_size=8)),
              "phase": st.one_of(st.text(max_size=8), st.integers()),
              "key": st.one_of(st.sampled_from(KEYS), st.text(max_size=8)),
              "value": scalars,
              "mM": scalars, "fraction": scalars, "count": scalars, "interval_ms": scalars}),
    st.dictionaries(st.text(max_size=6), scalars, max_size=2)).map(lambda t: {**t[1], **t[0]})
protocols = st.one_of(
    st.fixed_dictionaries({}, optional={"initial_phase": scalars,
                                        "events": st.one_of(st.lists(events, max_size=5),
                                                            scalars)}),
    values)


def builtin_text(name: str) -> str:
    return resources.files("scenarios").joinpath(name + ".toml").read_text("utf-8")


BUILTIN_DOCS = {n: tomllib.loads(builtin_text(n)) for n in ("resting", "pump-cycle",
                                                             "saturation")}


def answered(text: str, source: str = "generated.toml") -> None:
    """``parse`` accepts ``text`` or raises a one-line ScenarioError naming the source."""
    try:
        sc = parse(text, source, "generated")
    except ScenarioError as e:
        msg = str(e)
        assert msg.startswith(source + ": ") and "\n" not in msg and msg.strip(), msg
        return
    assert isinstance(sc, Scenario)


# ------------------------------------------------------------------ properties

@settings(max_examples=700, **SETTINGS)
@given(random_docs)
@example({"scenario": {"title": {"\n": 0}}})  # found: a newline in a key made two lines
def test_random_toml_trees(doc):
    answered(dumps(doc))


@settings(max_examples=700, **SETTINGS)
@given(st.sampled_from(sorted(BUILTIN_DOCS)), st.sampled_from(KEYS), values, st.booleans())
@example("pump-cycle", "domain.depth_um", 7.1e147, True)  # found: OverflowError in max_safe_dt
@example("resting", "domain.depth_um", 1e308, False)  # the ion count overflowed int()
@example("resting", "time.dt_ms", 1e-300, True)  # samples of 2^53+ steps
def test_builtin_with_one_value_broken(name, key, value, nest):
    """A valid scenario with one value replaced: wrong types, NaN, signs, ranges, dt, memory."""
    doc = json.loads(json.dumps(BUILTIN_DOCS[name], default=str))
    doc.pop("protocol", None)
    table, leaf = key.rsplit(".", 1)
    if nest:
        d = doc
        for p in table.split("."):
            d = d.setdefault(p, {})
        d[leaf] = value
    else:  # the same as a dotted top-level key
        doc[key] = value
    answered(dumps(doc))


@settings(max_examples=500, **SETTINGS)
@given(protocols)
def test_random_protocols(protocol):
    doc = json.loads(json.dumps(BUILTIN_DOCS["resting"]))
    text = dumps(doc)
    if isinstance(protocol, dict):
        text += "[protocol]\n" + "\n".join(
            f"{toml_key(k)} = {toml_value(v)}" for k, v in protocol.items()
            if k != "events" or not isinstance(v, list)) + "\n"
        for ev in protocol.get("events", []) if isinstance(protocol.get("events"),
                                                              list) else []:
            text += "[[protocol.events]]\n" + "".join(
                f"{toml_key(k)} = {toml_value(v)}\n" for k, v in ev.items())
    else:
        text += f"protocol = {toml_value(protocol)}\n"
    answered(text)


@settings(max_examples=600, **SETTINGS)
@given(st.text(max_size=200))
def test_random_text(text):
    answered(text)


@settings(max_examples=500, **SETTINGS)
@given(st.binary(max_size=200))
def test_random_bytes_from_a_file(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("bytes", numbered=True)
    f = d / "x.toml"
    f.write_bytes(data)
    try:
        load_scenario(f)
    except ScenarioError as e:
        assert str(e).startswith(str(f)) and "\n" not in str(e)


@settings(max_examples=600, **SETTINGS)
@given(st.one_of(st.text(max_size=40),
                 st.tuples(keys, values).map(lambda kv: f"{kv[0]}={toml_value(kv[1])}")))
def test_random_set_overrides(text):
    """--set KEY=VALUE: parsed and applied to `resting`, or a ScenarioError."""
    base = load_scenario("resting")
    try:
        key, value = parse_assignment(text)
        base.with_overrides({key: value})
    except ScenarioError as e:
        assert "\n" not in str(e), str(e)


@pytest.mark.parametrize("name", ["resting", "pump-cycle", "saturation"])
def test_writer_round_trips_builtins(name):
    """The test's TOML writer is faithful (a valid document stays valid)."""
    doc = BUILTIN_DOCS[name]
    assert tomllib.loads(dumps({k: v for k, v in doc.items() if k != "protocol"})) == \
        {k: v for k, v in doc.items() if k != "protocol"}
