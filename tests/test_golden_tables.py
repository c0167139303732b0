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
    "pump-cycle": "67c3082611d03451039bdb69c78e506019dd99fcb03b1678546b4b7f67cf9cf0",
    "resting": "ef3855ef2010483bdec4b4b91a7dac67caa5ba771ef776c8f359d388c3fce70c",
    "recovery": "9eeffafc3541bf5a5938c6c9f95fe1b04528b5359f48f68fcf73f8a38e218765",
    "hodgkin-keynes": "6484398844e6b0adc2114c2f84168c3c72c1da35ceff28f035b7d7e2ac97b010",
    "ouabain": "2507c31ff2a987e5918889cb9c928f2a6665b31520fcd01dd817b066dbc84ace",
    "energetics": "0d4d175b22581c07eaad490bc24b7ff5c74c74eb47248834f8ab16f0744d88bc",
    "saturation": "e45ef6e4b27cdc91eeea56bfebd5fd5d399a31a0b9137468a5adb16d33f90c19",
    str(DATA / "all-events.toml"): "1267d6f0073abff35672c29e2edc03b882a014c0273811189dc6e87a13543ec6",
    "action-potentials": "9b6b3d6114c8dd0d61daa2655b41a7f10e2cedce622aeb5a470fb72859d20a19",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
