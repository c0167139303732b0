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
    "resting": "f86d8db7cf0cad7ddc840a3327f5c790edc35c6c158769bf1edcc28342b92dc8",
    "recovery": "78974ba0515bc3c77fdb664ab551bd811324b2121e8e39700409f76389beafc8",
    "hodgkin-keynes": "8b8fd38be99fc4572e4b31bbdb20db9a835ccbabdf5055f8cdb671bd522c9b6e",
    "ouabain": "a737fee81e9bc2560b4a357a83dbcd80e93825a74f4e3dadaee716d87996da4a",
    "energetics": "0d4d175b22581c07eaad490bc24b7ff5c74c74eb47248834f8ab16f0744d88bc",
    "saturation": "e45ef6e4b27cdc91eeea56bfebd5fd5d399a31a0b9137468a5adb16d33f90c19",
    str(DATA / "all-events.toml"): "1267d6f0073abff35672c29e2edc03b882a014c0273811189dc6e87a13543ec6",
    "action-potentials": "78fd02a8d2f5bcae1b58666a9b572de990729802faf4ed7cc19c25cf2900711b",
}


@pytest.mark.parametrize("scenario", list(GOLDEN), ids=lambda s: Path(s).stem)
def test_short_run_table_is_unchanged(scenario, tmp_path):
    out = tmp_path / "t.csv"
    code = main(["run", scenario, "--duration", "2", "--seed", "3", "--set", "time.sample_ms=0.1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == GOLDEN[scenario]
