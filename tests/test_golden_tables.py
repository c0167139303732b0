"""Results tables pinned byte for byte.

Short runs (2 ms, seed 3, a row every 0.1 ms) of every built-in scenario and of a scenario file that fires every
protocol event must write exactly the table recorded before a refactoring. A change that
alters physics or the random stream on purpose updates these hashes in the same commit and
says so in its message.
"""

import hashlib
from pathlib import Path

import pytest

from particles.cli import main

DATA = Path(__file__).parent / "data"

GOLDEN = {
    "pump-cycle": "27c7ef9e5b14c74cb67566323e2f2eb547b6d8373868222645e771aa4128289b",
    "resting": "94e405c9d62d65ee75661ed76a37ac28d447901973f21e03df65933dea88aa48",
    "recovery": "cd2f164785269422b9a6ff42415a2d66e0607f63a68cfd796c11eae2fda44b97",
    "hodgkin-keynes": "ded21a92420e31802a20bbe6570ba60c562a474c15e3c11051f8c84c1174d781",
    "ouabain": "081a12671c9ddc480b4271059d8dee359e0022ab88545a6df3c9215c407863c8",
    "energetics": "9def0ed67e300ef26e789d2bee7a9b1e5b5831d52825d4e76224e2a0b989629d",
    "saturation": "ab56918c0b3f220a1267217181c2e8c92ffef575546232e9442e6c8e82965841",
    str(DATA / "all-events.toml"): "5d84706a4a301fbf760bc62ef504512bfaf069ab963a69af1c846b9e929e083a",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
