"""What a sweep costs beyond its runs: ``ionpump sweep`` against the same runs done serially.

Usage::

    .venv/bin/python benchmarks/sweep_overhead.py [--repeats 3] [--dask]

Each variant runs in a fresh process, as a user would start it, timed from the outside
(wall time: start-up, imports, loading the compiled kernels, runs, writing the table):

- ``serial``: one process runs the sweep's runs one after the other (``run_one``);
- ``sweep``: ``ionpump sweep`` (worker processes started by the sweep, batches of runs);
- ``sweep, 1 run per task``: the same with ``runs_per_task=1`` (what batching saves);
- ``--dask``: the sweep on a Dask ``LocalCluster`` started and stopped in the same process
  (what ``ionpump sweep`` did before it started its own workers).

The variants alternate, ``--repeats`` times; the medians are printed as a markdown table
with the machine, the CPUs this process may use and the load average before and after.
Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = "saturation"
KEY = "ions.na.inside_mM"

RUNS = """
import sys
from particles.sweep import run_one
for v in sys.argv[3].split(","):
    run_one(sys.argv[1], {{sys.argv[2]: float(v)}}, 1, float(sys.argv[4]), numba_threads=1)
"""

SWEEP = """
import sys
from particles.sweep import run_sweep
from particles.output import write_results
if __name__ == "__main__":
    values = [float(v) for v in sys.argv[3].split(",")]
    df = run_sweep(sys.argv[1], {{sys.argv[2]: values}}, 1, 1, float(sys.argv[4]),
                   progress=False, {options})
    write_results(df, sys.argv[5], {{"vary": df.attrs["vary"]}})
"""

DASK = """
import logging, sys
from distributed import LocalCluster
from particles.sweep import run_sweep
from particles.output import write_results
if __name__ == "__main__":
    values = [float(v) for v in sys.argv[3].split(",")]
    with LocalCluster(n_workers=min(len(values), {workers}), threads_per_worker=1,
                      dashboard_address=":0", silence_logs=logging.ERROR,
                      env={{"NUMBA_NUM_THREADS": "1"}}) as cluster:
        df = run_sweep(sys.argv[1], {{sys.argv[2]: values}}, 1, 1, float(sys.argv[4]),
                       progress=False, scheduler=cluster.scheduler_address)
    write_results(df, sys.argv[5], {{"vary": df.attrs["vary"]}})
"""


def machine() -> str:
    """CPU model and the CPUs this process may use."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {len(os.sched_getaffinity(0))} CPUs"


def wall(argv: list[str], env: dict) -> tuple[float, float]:
    """Seconds from start to exit of ``argv``, and the CPU seconds (user + system) of it and
    the processes it waited for; raises if it fails."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--values", default="5,10,20,40", help=f"{KEY} values (one run each)")
    ap.add_argument("--duration", type=float, default=1.0, help="simulated ms per run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster")
    args = ap.parse_args()

    py = sys.executable
    ionpump = str(Path(py).with_name("ionpump"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    workers = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "sweep.parquet")
        common = [SCENARIO, KEY, args.values, f"{args.duration:g}", out]
        variants = {
            "serial, one process": [py, "-c", RUNS.format(), *common[:4]],
            "ionpump sweep": [ionpump, "sweep", SCENARIO, "--vary", f"{KEY}={args.values}",
                              "--duration", f"{args.duration:g}", "--out", out, "--force",
                              "--quiet"],
            "sweep, 1 run per task": [py, "-c", SWEEP.format(options="runs_per_task=1"),
                                      *common],
        }
        if args.dask:
            variants["sweep on a Dask LocalCluster"] = [py, "-c", DASK.format(workers=workers),
                                                        *common]
        wall([py, "-c", RUNS.format(), *common[:4]], env)  # the kernels in numba's cache
        load0 = os.getloadavg()
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
        for _ in range(args.repeats):
            for name, argv in variants.items():
                if os.path.exists(out):
                    os.unlink(out)
                times[name].append(wall(argv, env))
        load1 = os.getloadavg()

    n = len(args.values.split(","))
    base = statistics.median(w for w, _ in times["serial, one process"])
    print(f"{n} runs × {args.duration:g} ms of `{SCENARIO}`; {machine()}; load average "
          f"{load0[0]:.1f} before, {load1[0]:.1f} after; median of {args.repeats}\n")
    print("| variant | wall (s), median | all (s) | ÷ serial | CPU (s), median |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(w for w, _ in ts)
        cpu = statistics.median(c for _, c in ts)
        print(f"| {name} | {med:.2f} | {', '.join(f'{w:.1f}' for w, _ in ts)} | "
              f"{med / base:.2f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
