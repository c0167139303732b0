"""``ionpump schema``: the JSON Schema (draft 2020-12) of the scenario format.

Generated from :data:`particles.config.SCHEMA` (every key: type, unit, range, default) and
:data:`particles.config.PROTOCOL_EVENTS` (every event and its parameters), so it never
disagrees with the loader. Editors use it to complete and check scenario files: TOML
editors that read JSON Schemas (e.g. Taplo / Even Better TOML: ``#:schema FILE`` on the
first line of a scenario) and ``check-jsonschema`` on the TOML converted to JSON. Cross-key
rules (pumps and pores fit on the membrane, a safe dt, memory) are the loader's alone.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..config import PROTOCOL_EVENTS, SCHEMA, Key
from ..layout import SIDE_BY_NAME, SPECIES_BY_NAME
from ..protocol import SETTABLE_PREFIXES
from . import options

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TYPES = {float: "number", int: "integer", bool: "boolean", str: "string"}

#: The parameters of protocol events: JSON Schema of each (the loader's checks).
EVENT_PARAMETERS: dict[str, dict[str, Any]] = {
    "key": {"type": "string", "description": "scenario key to change during the run",
            "enum": sorted(k for k in SCHEMA if k.startswith(SETTABLE_PREFIXES))},
    "value": {"description": "new value, in the key's unit",
              "type": ["number", "integer", "boolean", "string"]},
    "mM": {"type": "number", "minimum": 0, "description": "concentration [mM]"},
    "fraction": {"type": "number", "minimum": 0, "maximum": 1,
                 "description": "fraction of the Na+ inside labelled as 24Na+"},
    "count": {"type": "integer", "minimum": 1, "description": "how many [count]"},
    "interval_ms": {"type": "number", "minimum": 0,
                    "description": "interval between the starts of stimuli [ms]"},
    "amplitude_uA_per_cm2": {"type": "number", "minimum": -1e4, "maximum": 1e4,
                             "description": "stimulus current, positive depolarises "
                                           "[µA/cm²]"},
    "duration_ms": {"type": "number", "exclusiveMinimum": 0,
                    "description": "duration of each stimulus pulse [ms]"},
    "species": {"enum": sorted(SPECIES_BY_NAME), "description": "ion species"},
    "side": {"enum": sorted(SIDE_BY_NAME), "description": "compartment"},
}


def add_parser(sub) -> None:
    """Declare ``schema``."""
    sp = sub.add_parser("schema", help="JSON Schema of the scenario format (for editors)",
                        **options.examples("ionpump schema",
                                           "ionpump schema --out out/scenario.schema.json"))
    sp.add_argument("--out", metavar="FILE", help="write it to FILE (default: print it)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.set_defaults(func=cmd_schema)


def cmd_schema(args) -> int:
    """Print the schema, or write it to ``--out``."""
    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from pathlib import Path

    from ..output import atomic_write, check_output

    out = check_output(args.out, (".json",), args.force)
    atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return 0


def key_schema(key: Key) -> dict[str, Any]:
    """JSON Schema of one scenario key: type, description with the unit, range, default."""
    unit = f" [{key.unit}]" if key.unit else ""
    out: dict[str, Any] = {"type": _TYPES[key.kind], "description": key.help + unit,
                           "default": key.default}
    if key.min is not None:
        out["exclusiveMinimum" if key.min_open else "minimum"] = key.min
    if key.max is not None:
        out["maximum"] = key.max
    return out


def _event_schema(name: str, params: tuple[str, ...]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "at_ms": {"type": "number", "minimum": 0, "description": "time of the event [ms]"},
        "do": {"const": name},
        "phase": {"type": "string", "description": "label of the phase the event starts"},
    }
    props.update({p: EVENT_PARAMETERS[p] for p in params})
    required = ["at_ms", "do"] + (["key", "value"] if name == "set" else [])
    return {"type": "object", "title": name, "properties": props, "required": required,
            "additionalProperties": False}


def _protocol_schema() -> dict[str, Any]:
    events = [_event_schema(n, p) for n, p in PROTOCOL_EVENTS.items()]
    # an event with a phase and no `do` is a phase label
    events.append({"type": "object", "title": "phase (implicit)",
                   "properties": {k: v for k, v in _event_schema("phase", ())["properties"]
                                  .items() if k != "do"},
                   "required": ["at_ms", "phase"], "additionalProperties": False})
    return {"type": "object", "description": "timed events",
            "properties": {"initial_phase": {"type": "string", "default": "control",
                                             "description": "label of the first phase"},
                           "events": {"type": "array", "items": {"oneOf": events}}},
            "additionalProperties": False}


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file, as a dict.

    Tables nest as in TOML (``ions.na.D`` is ``{"ions": {"na": {"D": ...}}}``); unknown keys
    are refused (``additionalProperties: false``), as the loader refuses them.
    """
    root: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    for dotted, key in SCHEMA.items():
        node = root
        *tables, leaf = dotted.split(".")
        for t in tables:
            node = node["properties"].setdefault(
                t, {"type": "object", "properties": {}, "additionalProperties": False})
        node["properties"][leaf] = key_schema(key)
    root["properties"]["protocol"] = _protocol_schema()
    return {"$schema": DIALECT, "$id": "https://ionpump.invalid/scenario.schema.json",
            "title": "ionpump scenario",
            "description": "A scenario file of ionpump (TOML): every key has a default; set "
                           "only what you change.", **root}
