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
    "pump-cycle": "59fd1737cc8a9db4bf97b40f7d40103b140ae765ba9f675944f1ae45ed55487f",
    "resting": "e6071cbfdeba5e0e0042097de0cffdf4856d685be79d3a8affcb3d7994aebf9b",
    "resting-timelapse": "fad390a0301689fed0be81a2603e35abf8c0b5e7ed454538a1a92e5fc89fe61d",
    "recovery": "c41373e51caf211b159490c93fa5c5a8332a05d5f57647c7331ada9085b866ca",
    "hodgkin-keynes": "fe390a81a7d133d1a69a39e2c07449e8d50c95ce89cf376bb75062693f7d9821",
    "ouabain": "2da0ea7b3d5fe590b7388d74804a4c75f3e95ef983a6f8d25db72207a9404933",
    "energetics": "785d6af75c4f7559f6dbd822cd9df05b4f2a34c8986b75d16198eaa888121194",
    "saturation": "4edbdce1c0f5f0ce16ba15bd30e91e637e1c5350aeb3897a125591a09f02c7a6",
    str(DATA / "all-events.toml"): "ee290596b1b959c3eba2962477eaba7df42c681871aba46d5a83eec5b4a08eb3",
    "action-potentials": "e4411cd24bf3d06b04bf7fa2fd86dfa4fdff7023d763b77d52f1e06dd1ffaba9",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
