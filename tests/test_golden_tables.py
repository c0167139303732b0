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
    "resting-timelapse": "20869f79c4f8d16fe0c7c13323226431a02d74b37f6e658794020b94d1e0a469",
    "recovery": "0282087c23b57b15ba2f32d5a42395404b58e1b520f00c5a2dfacb53a6667437",
    "hodgkin-keynes": "b28de7ea5c7a7ddc91ce1fd5ae09ec95f29a997ff60d876faa387f3a64fb7421",
    "ouabain": "ab16995213606db1f658ac77dba56627cacb8eb585053e26909cfde2e4f0c945",
    "energetics": "54a042f0bb9862d1e1722d0193bdf7939cf994bba1d703837603c4483a5e0257",
    "saturation": "4edbdce1c0f5f0ce16ba15bd30e91e637e1c5350aeb3897a125591a09f02c7a6",
    str(DATA / "all-events.toml"): "22ea816e78f7c75b9d09c7b11664cd59624d8e936c0c49161494f50d730784bb",
    "action-potentials": "ad6e3843e30a32456ab4c074f6cac101e35e919b7e1f6a4d63eb106ff7df6ba0",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
