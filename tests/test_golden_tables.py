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
    "recovery": "cfd8096d343df524f6e235fcc617fd94bd06aa615ddeb69cd88ff2ee82a02089",
    "hodgkin-keynes": "06a33a3171e3777d18fecfd395150ec15113f81286dd321675acfe758827e0f2",
    "ouabain": "ae6b22366baf9f6a1671f5495134404e50b4cfdc2eba1da9770483fd6cc64433",
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
