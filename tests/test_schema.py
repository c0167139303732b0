"""``ionpump schema``: the JSON Schema of the scenario format accepts every built-in scenario
and refuses what the loader refuses (validated with ``jsonschema`` when installed, else by a
small structural check of the same rules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from particles.cli import main
from particles.cli.schema import DIALECT, scenario_json_schema
from particles.config import PROTOCOL_EVENTS, SCHEMA, builtin_names, tomllib

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
_JSON_TYPES = {"number": (int, float), "integer": (int,), "boolean": (bool,), "string": (str,),
               "object": (dict,), "array": (list,)}


def _check(doc, schema) -> list[str]:
    """The rules the generated schema uses (type, enum, const, range, required, properties,
    additionalProperties, items, oneOf), checked by hand: a list of problems."""
    problems = []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        ok = any(isinstance(doc, _JSON_TYPES[t]) and not (isinstance(doc, bool) and t != "boolean")
                 for t in types)
        if not ok:
            return [f"{doc!r} is not of type {types}"]
    if "enum" in schema and doc not in schema["enum"]:
        problems.append(f"{doc!r} not in {schema['enum']}")
    if "const" in schema and doc != schema["const"]:
        problems.append(f"{doc!r} != {schema['const']!r}")
    if "minimum" in schema and doc < schema["minimum"]:
        problems.append(f"{doc!r} < {schema['minimum']}")
    if "exclusiveMinimum" in schema and doc <= schema["exclusiveMinimum"]:
        problems.append(f"{doc!r} <= {schema['exclusiveMinimum']}")
    if "maximum" in schema and doc > schema["maximum"]:
        problems.append(f"{doc!r} > {schema['maximum']}")
    if isinstance(doc, dict):
        props = schema.get("properties", {})
        problems += [f"missing {k}" for k in schema.get("required", []) if k not in doc]
        for k, v in doc.items():
            if k in props:
                problems += [f"{k}: {p}" for p in _check(v, props[k])]
            elif schema.get("additionalProperties") is False:
                problems.append(f"unknown key {k}")
    if isinstance(doc, list) and "items" in schema:
        for i, v in enumerate(doc):
            problems += [f"[{i}]: {p}" for p in _check(v, schema["items"])]
    if "oneOf" in schema:
        n = sum(not _check(doc, s) for s in schema["oneOf"])
        if n != 1:
            problems.append(f"{doc!r} matches {n} of oneOf")
    return problems


@pytest.fixture(params=["jsonschema", "structural"])
def validate(request):
    """A function giving the problems of a scenario document: by ``jsonschema`` (skipped
    when it is not installed) or by :func:`_check`."""
    schema = scenario_json_schema()
    if request.param == "structural":
        return lambda doc: _check(doc, schema)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return lambda doc: [e.message for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_scenario_is_valid(name, validate):
    doc = tomllib.loads((SCENARIOS / f"{name}.toml").read_text(encoding="utf-8"))
    assert validate(doc) == []


@pytest.mark.parametrize("bad, why", [
    ({"pumps": {"count": -1}}, "below minimum"),
    ({"pumps": {"cuont": 3}}, "unknown key"),
    ({"time": {"dt_ms": 0}}, "exclusive minimum"),
    ({"atp": {"poisoned": "yes"}}, "wrong type"),
    ({"protocol": {"events": [{"at_ms": 1, "do": "poision"}]}}, "unknown event"),
    ({"protocol": {"events": [{"at_ms": 1, "do": "ouabain", "mol": 1}]}}, "unknown parameter"),
    ({"protocol": {"events": [{"at_ms": 1, "do": "set", "key": "pumps.count",
                               "value": 3}]}}, "key not settable"),
    ({"protocol": {"events": [{"do": "poison"}]}}, "no time"),
])
def test_a_bad_scenario_is_refused(bad, why, validate):
    assert validate(bad), why


def test_the_schema_follows_the_loader_schema():
    js = scenario_json_schema()
    assert js["$schema"] == DIALECT
    na_d = js["properties"]["ions"]["properties"]["na"]["properties"]["D"]
    assert na_d["type"] == "number" and "[µm²/ms]" in na_d["description"]
    assert na_d["default"] == SCHEMA["ions.na.D"].default
    assert js["properties"]["pumps"]["properties"]["count"]["type"] == "integer"
    assert js["properties"]["tracer"]["properties"]["fraction"]["maximum"] == 1
    events = js["properties"]["protocol"]["properties"]["events"]["items"]["oneOf"]
    assert {e["title"] for e in events} >= set(PROTOCOL_EVENTS)
    n_keys = 0
    stack = [js]
    while stack:
        node = stack.pop()
        for k, v in node.get("properties", {}).items():
            if k == "protocol":
                continue
            if v.get("type") == "object":
                stack.append(v)
            else:
                n_keys += 1
    assert n_keys == len(SCHEMA)


def test_ionpump_schema_prints_and_writes(tmp_path, capsys):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(scenario_json_schema()))
    out = tmp_path / "s.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == printed
    assert main(["schema", "--out", str(out)]) == 2  # exists without --force
    assert main(["schema", "--out", str(tmp_path / "s.txt")]) == 2
    assert "unknown output extension" in capsys.readouterr().err
