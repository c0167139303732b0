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
    "recovery": "7a4eff3de241d14d6fb2b5fbde08f595509db6bc4f844e6aac6edc8f0fabc467",
    "hodgkin-keynes": "59e9e3cba22ef47a9cc0cd68fb7ea37ec34f0799785ffd448c69984ce24a1513",
    "ouabain": "2976a170d7f798d42c2ec9ba1620f0b8531138ab9c951eb8c32104c14f4c9d1f",
    "energetics": "9def0ed67e300ef26e789d2bee7a9b1e5b5831d52825d4e76224e2a0b989629d",
    "saturation": "ab56918c0b3f220a1267217181c2e8c92ffef575546232e9442e6c8e82965841",
    str(DATA / "all-events.toml"): "84563bfbfcd35fc535de8553260229f8ecb09c38162a3f3305d95899e8e37a11",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
