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
    "pump-cycle": "eff7cf21f473791af0937c21c2850d288af722daf1c24dfcb5ebf602c5cc95af",
    "resting": "6a2b0fb24de114be1a81bdebec8c141826c3e12abb5b33e14f4240df3499e79b",
    "recovery": "1a055d9f163d6392915a27a928035575edd9218ea298ec1227d6a02cf55d6d3c",
    "hodgkin-keynes": "8b1389e0368a7df89ea2f6f6969da7328aa61a595a151de4da2f8e7d723ee758",
    "ouabain": "b96322832eca153fe8f8c2c1f56b911cf423b6ca553a6c81e3a103b11fb101ba",
    "saturation": "29891f835923608520c8a652aaf71736ce800934f0be94ae9f65445566c3826a",
    str(DATA / "all-events.toml"): "0a361f7feb8345884c672c7744331d18d0a5c0b027587de2d9e1325a01a82396",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
