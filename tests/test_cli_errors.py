"""Bad input through the real command line: exit status 2 and one line naming the file, the
key and what is wrong, never a traceback (issue 8). One test per kind of bad input.

Each case runs ``python -m particles`` in a fresh process; all of them fail before any
simulation starts, so each takes about half a second.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from particles.config import builtin_names


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "particles", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def error_line(r) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ionpump: error: ")
    return lines[0].removeprefix("ionpump: error: ")


# (file contents, expected pieces of the message after "FILE: ")
TOML_CASES = {
    "malformed": ("[time\ndt_ms = 1\n", ["malformed TOML"]),
    "malformed-value": ("[time]\ndt_ms = 1e-4 ms\n", ["malformed TOML"]),
    "empty": ("", ["empty scenario file"]),
    "only-comments": ("# nothing here\n\n", ["empty scenario file"]),
    "unknown-key": ("[pumps]\ncuont = 3\n", ["pumps.cuont: unknown key",
                                            "did you mean pumps.count?"]),
    "unknown-table": ("[pump]\ncount = 3\n", ["pump.count: unknown key",
                                             "did you mean pumps.count?"]),
    "table-as-value": ("time = 3\n", ["time: expected a table of keys such as time.dt_ms"]),
    "wrong-type-text": ('[time]\ndt_ms = "fast"\n', ["time.dt_ms: expected a number (in ms)",
                                                    "'fast'"]),
    "wrong-type-array": ("[domain]\nwidth_um = [1, 2]\n", ["domain.width_um: expected a number"]),
    "wrong-type-bool": ("[bath]\nclamped = 3\n", ["bath.clamped: expected true or false"]),
    "wrong-type-int": ("[pumps]\ncount = 2.5\n", ["pumps.count: expected a whole number"]),
    "nan": ("[time]\ndt_ms = nan\n", ["time.dt_ms: must be a finite number", "nan"]),
    "inf": ("[ions.na]\nD = inf\n", ["ions.na.D: must be a finite number"]),
    "negative": ("[pumps]\ncount = -3\n", ["pumps.count: must be >= 0", "-3"]),
    "negative-concentration": ("[ions.k]\noutside_mM = -5.0\n",
                               ["ions.k.outside_mM: must be >= 0 mM"]),
    "zero": ("[domain]\nwidth_um = 0\n", ["domain.width_um: must be > 0 µm", "got 0"]),
    "fraction-above-1": ("[tracer]\nfraction = 1.5\n", ["tracer.fraction: must be <= 1"]),
    "dt-too-large": ("[time]\ndt_ms = 0.01\n", ["time.dt_ms: dt = 0.01 ms",
                                               "the largest safe dt is 0.000159 ms"]),
    "too-many-ions": ("[domain]\nwidth_um = 1000.0\nheight_um = 1000.0\ndepth_um = 0.01\n",
                      ["domain: ", "ions would need about", "GiB", "ions.max_count"]),
    "bad-protocol-event": ("[time]\ndt_ms = 1e-4\n[[protocol.events]]\nat_ms = 1.0\n"
                           "do = \"k_fre\"\n",
                           ["protocol.events[0].do: unknown event 'k_fre'",
                            "did you mean k_free?"]),
    "protocol-negative-time": ("[[protocol.events]]\nat_ms = -1.0\ndo = \"poison\"\n",
                               ["protocol.events[0].at_ms: expected a time >= 0 ms"]),
    "binary": (b"\xff\xfe\x00[time]\n", ["cannot read file"]),
}


@pytest.mark.parametrize("case", list(TOML_CASES))
def test_bad_scenario_file(tmp_path, case):
    text, pieces = TOML_CASES[case]
    f = tmp_path / f"{case}.toml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    line = error_line(run_cli("run", f.name, "--out", "r.csv", cwd=tmp_path))
    assert line.startswith(f"{f.name}: "), line
    for piece in pieces:
        assert piece in line, (piece, line)
    assert not (tmp_path / "r.csv").exists()


def test_dt_suggestion_is_itself_accepted(tmp_path):
    """The largest safe dt the message gives is accepted when used."""
    line = error_line(run_cli("run", "resting", "--set", "time.dt_ms=0.01", "--out", "r.csv",
                              cwd=tmp_path))
    safe = line.rsplit("the largest safe dt is ", 1)[1].split()[0]
    r = run_cli("run", "resting", "--set", f"time.dt_ms={safe}", "--set", "time.sample_ms=0.5",
                "--set", "domain.depth_um=2e-5", "--duration", 0.01, "--quiet", "--out",
                "r.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_too_large_domain_message_has_estimate(tmp_path):
    line = error_line(run_cli("run", "resting", "--set", "domain.width_um=100",
                              "--set", "domain.height_um=100", "--out", "r.csv", cwd=tmp_path))
    assert line.startswith("scenarios/resting.toml: domain: "), line
    n, rest = line.split(": ", 2)[2].split(" ions would need about ")
    assert int(n.replace(",", "")) > 20_000_000
    assert rest.split()[1].startswith("GiB") and "ions.max_count = 20,000,000" in rest


def test_unknown_scenario_lists_builtins(tmp_path):
    line = error_line(run_cli("run", "restng", "--out", "r.csv", cwd=tmp_path))
    assert line.startswith("restng: unknown scenario (did you mean resting?)")
    for name in builtin_names():
        assert name in line


def test_missing_scenario_file(tmp_path):
    line = error_line(run_cli("run", "nowhere.toml", "--out", "r.csv", cwd=tmp_path))
    assert line == "nowhere.toml: no such scenario file"


SET_CASES = {
    "no-equals": ("pumps.count", "--set: expected KEY=VALUE, got 'pumps.count'"),
    "no-key": ("=3", "--set: expected KEY=VALUE, got '=3'"),
    "no-value": ("pumps.count=", "--set: pumps.count: expected KEY=VALUE"),
    "unknown-key": ("pumps.cont=3", "--set: pumps.cont: unknown key (did you mean pumps.count?)"),
    "bad-value": ("pumps.count=abc", "--set: pumps.count: expected a number, got 'abc'"),
    "bad-toml-value": ("time.dt_ms=[1", "--set: time.dt_ms: expected a number (in ms)"),
    "out-of-range": ("tracer.fraction=2", "--set: tracer.fraction: must be <= 1"),
    "nan": ("time.dt_ms=nan", "--set: time.dt_ms: must be a finite number"),
}


@pytest.mark.parametrize("case", list(SET_CASES))
def test_bad_set(tmp_path, case):
    arg, expected = SET_CASES[case]
    line = error_line(run_cli("run", "resting", "--set", arg, "--out", "r.csv", cwd=tmp_path))
    assert line.startswith(expected), line


DURATION_CASES = {
    "negative": ("-1", "command line: --duration: must be a number > 0"),
    "zero": ("0", "command line: --duration: must be a number > 0"),
    "nan": ("nan", "command line: --duration: must be a number > 0, got nan"),
    "inf": ("inf", "command line: --duration: must be a number > 0, got inf"),
    "text": ("abc", "command line: ionpump run: argument --duration: invalid float value"),
    "below-one-step": ("1e-9", "command line: --duration: 1e-09 ms is"),
    "absurd": ("1e300", "command line: --duration: 1e+300 ms is"),
}


@pytest.mark.parametrize("case", list(DURATION_CASES))
def test_bad_duration(tmp_path, case):
    arg, expected = DURATION_CASES[case]
    line = error_line(run_cli("run", "resting", "--duration", arg, "--out", "r.csv",
                              cwd=tmp_path))
    assert line.startswith(expected), line


@pytest.mark.parametrize("out,expected", [
    ("r.txt", "r.txt: unknown output extension '.txt'; use one of .csv, .parquet"),
    ("r", "r: unknown output extension '(none)'"),
    ("r.CSV.gz", "r.CSV.gz: unknown output extension '.gz'"),
])
def test_unknown_output_extension(tmp_path, out, expected):
    line = error_line(run_cli("run", "resting", "--out", out, cwd=tmp_path))
    assert line.startswith(expected), line


@pytest.mark.parametrize("args,expected", [
    (("sweep", "saturation", "--vary", "ions.na.inside_mM=5,20", "--workers", "0"),
     "command line: --workers: must be >= 1, got 0"),
    (("sweep", "saturation", "--vary", "ions.na.inside_mM=5,20", "--workers", "2",
      "--scheduler", "tcp://10.0.0.5:8786"), "command line: --workers: a Dask cluster's"),
    (("run", "saturation", "--workers", "2"), "command line: --workers: is for --replicates"),
    (("run", "saturation", "--workers", "two"), "command line: ionpump run: argument "
                                                 "--workers: invalid int value"),
])
def test_bad_workers(tmp_path, args, expected):
    line = error_line(run_cli(*args, "--out", "r.parquet", cwd=tmp_path))
    assert line.startswith(expected), line
    assert not (tmp_path / "r.parquet").exists()


def test_workers_reach_the_sweep(monkeypatch, tmp_path):
    """``--workers N`` is the number of local worker processes the sweep starts."""
    from particles import sweep
    from particles.cli import main

    seen = {}

    def fake_run_sweep(*args, n_workers=None, **kwargs):
        seen["n_workers"] = n_workers
        raise sweep.SweepError("stopped here")

    monkeypatch.setattr(sweep, "run_sweep", fake_run_sweep)
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "saturation", "--vary", "ions.na.inside_mM=5,20", "--workers", "3",
                 "--out", "r.parquet", "--quiet"]) == 1
    assert seen == {"n_workers": 3}
    assert main(["run", "saturation", "--replicates", "2", "--workers", "1", "--out",
                 "r.parquet", "--quiet"]) == 1
    assert seen == {"n_workers": 1}


def test_unknown_checkpoint_extension(tmp_path):
    line = error_line(run_cli("run", "resting", "--out", "r.csv", "--checkpoint", "c.pkl",
                              cwd=tmp_path))
    assert line == "c.pkl: unknown output extension '.pkl'; use one of .npz"


@pytest.mark.parametrize("args,expected", [
    (["--seed", "-1"], "command line: --seed: must be a whole number from 0 to 2^63 - 1"),
    (["--seed", str(2**64)], "command line: --seed: must be a whole number from 0 to 2^63 - 1"),
    (["--seed", "1.5"], "command line: ionpump run: argument --seed: invalid int value"),
    (["--replicates", "0"], "command line: --replicates: must be >= 1"),
    (["--checkpoint-every", "2"], "command line: --checkpoint-every: needs --checkpoint FILE"),
    (["--checkpoint", "c.npz", "--checkpoint-every", "-1"],
     "command line: --checkpoint-every: must be a number > 0"),
    (["--bogus"], "command line: ionpump: unrecognized arguments: --bogus"),
])
def test_bad_options(tmp_path, args, expected):
    line = error_line(run_cli("run", "resting", "--out", "r.csv", *args, cwd=tmp_path))
    assert line.startswith(expected), line


def test_missing_arguments(tmp_path):
    assert error_line(run_cli("run", "--out", "r.csv", cwd=tmp_path)).startswith(
        "command line: SCENARIO: a scenario is required")
    assert error_line(run_cli("run", "resting", "--replicates", "2", cwd=tmp_path)).startswith(
        "command line: --out: --replicates needs an output file")
    assert error_line(run_cli("run", "--resume", "none.npz", cwd=tmp_path)) == \
        "none.npz: no such checkpoint file"


def test_every_command_has_examples_that_parse(capsys):
    """Each subcommand's --help ends with examples, and each example is a valid command line
    for that subcommand's parser (so the help text cannot drift from the options)."""
    import shlex

    from particles.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        if name == "scenarios":
            continue
        text = sub.format_help()
        assert "examples:" in text, name
        body = text.split("examples:", 1)[1].replace("\\\n", " ")
        lines = [ln.split("#")[0].strip() for ln in body.strip().splitlines()]
        assert lines, name
        for line in lines:
            argv = shlex.split(line.split(">")[0])
            assert argv[:2] == ["ionpump", name], line
            parser.parse_args(argv[1:])  # SystemExit(2) on a stale option
