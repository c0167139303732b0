"""Figures: plot_file writes non-empty figures for a run, a tracer experiment and a sweep.

The tables are synthetic (built here with numpy, in the results-table layout of
INTERFACE.md), so these tests do not depend on the simulation core.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from particles import plotting, stats
from particles.config import ScenarioError

STATES = ["E1", "E1_3NA", "E1P_3NA", "E2P", "E2P_2K", "E2_2K", "BLOCKED"]


def synthetic_run(seed: int = 0, n_pumps: int = 20, t_end_ms: float = 200.0,
                  dt_ms: float = 1.0, phases=None, tracer: float = 0.0,
                  turnover_per_ms: float = 0.05, replicate: int | None = None) -> pd.DataFrame:
    """A results table: cycles of n_pumps Poisson pumps, counts that follow them."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, t_end_ms + dt_ms / 2, dt_ms)
    n = t.size
    phase = np.array(["control"] * n, dtype=object)
    rate = np.full(n, turnover_per_ms * n_pumps)
    k_tr = np.full(n, 0.002)  # tracer rate constant per ms
    for label, a, b, factor in phases or []:
        sel = (t > a) & (t <= b)
        phase[sel] = label
        rate[sel] *= factor
        k_tr[sel] *= factor
    dcyc = rng.poisson(rate[1:] * dt_ms)
    cycles = np.concatenate([[0], np.cumsum(dcyc)])
    tin = np.empty(n)
    eff = np.zeros(n)
    tin[0] = tracer
    for i in range(1, n):
        e = rng.binomial(int(tin[i - 1]), 1 - np.exp(-k_tr[i] * dt_ms))
        tin[i] = tin[i - 1] - e
        eff[i] = eff[i - 1] + e
    occ = rng.multinomial(n_pumps, [0.3, 0.1, 0.2, 0.15, 0.1, 0.15, 0.0], size=n)
    df = pd.DataFrame({
        "time_ms": t, "na_in": 5000 + 3 * cycles[::-1] // 10, "na_out": 40000 + 3 * cycles,
        "k_in": 40000 + 2 * cycles, "k_out": 2000 - cycles // 10,
        "na_bound": rng.integers(0, 30, n), "k_bound": rng.integers(0, 20, n),
        "cycles": cycles, "na_pumped_out": 3 * cycles, "k_pumped_in": 2 * cycles,
        "na_pumped_in": np.zeros(n, int), "tracer_in": tin, "tracer_efflux": eff,
        "atp_mM": 3.0 - 1e-4 * cycles, "v_mV": -60.0 - 2.0 * (1 - np.exp(-t / 50.0)),
        **{f"pumps_{s}": occ[:, j] for j, s in enumerate(STATES)},
        "bath_na_added": 0, "bath_na_removed": 0, "bath_k_added": 0, "bath_k_removed": 0,
        "phase": phase,
    })
    if replicate is not None:
        df.insert(0, "replicate", replicate)
    return df


def synthetic_hodgkin_keynes(seed: int = 0) -> pd.DataFrame:
    """Tracer-loaded axon: control, K-free (efflux / 2), control, DNP (/ 20), washout."""
    phases = [("K-free", 400, 700, 0.5), ("DNP", 1100, 1800, 0.05), ("washout", 1800, 2400, 1.0)]
    return synthetic_run(seed, t_end_ms=2400.0, dt_ms=4.0, phases=phases, tracer=20000)


def synthetic_sweep(seed: int = 0, values=(2, 5, 10, 20, 40, 80), replicates: int = 3,
                    K=12.0, n=1.5, vmax_per_s=50.0, second=None,
                    v0_per_s=0.0) -> pd.DataFrame:
    """A sweep over ions.na.inside_mM whose turnover follows a known Hill curve (on a
    baseline ``v0_per_s`` if given)."""
    frames = []
    seconds = second or [None]
    for s2 in seconds:
        for c in values:
            for r in range(replicates):
                scale = 1.0 if s2 is None else s2 / (s2 + 1.0)
                rate = stats.hill(c, K, n, vmax_per_s, v0_per_s) * scale / 1000.0
                df = synthetic_run(seed * 1000 + r + 17 * int(c), turnover_per_ms=rate,
                                   t_end_ms=500.0, dt_ms=5.0)
                front = {"ions.na.inside_mM": float(c)}
                if s2 is not None:
                    front["ions.k.outside_mM"] = float(s2)
                front.update(replicate=r, seed=seed + r)
                for i, (k, v) in enumerate(front.items()):
                    df.insert(i, k, v)
                frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _check_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a real figure, not an empty canvas


def test_run_figure(tmp_path):
    src = tmp_path / "run.csv"
    synthetic_run().to_csv(src, index=False)
    out = tmp_path / "run.png"
    assert plotting.plot_file(src, out) == "run"
    _check_png(out)


def test_run_figure_replicates_parquet_svg(tmp_path):
    df = pd.concat([synthetic_run(r, replicate=r) for r in range(3)], ignore_index=True)
    src = tmp_path / "reps.parquet"
    df.to_parquet(src)
    out = tmp_path / "reps.svg"
    assert plotting.plot_file(src, out) == "run"
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_tracer_figure(tmp_path):
    src = tmp_path / "hk.csv"
    synthetic_hodgkin_keynes().to_csv(src, index=False)
    out = tmp_path / "hk.png"
    assert plotting.plot_file(src, out) == "tracer"
    _check_png(out)


def test_sweep_summary_and_figure_fit_a_baseline_where_there_is_one(tmp_path, capsys):
    """A flux on a floor: the summary and the figure report the baseline fit, with K½ near
    the truth; a flux without one keeps the plain Hill fit."""
    from particles.cli.sweep import print_sweep_summary

    values = (0, 2, 5, 10, 20, 40, 80, 160)
    for v0, kind in ((25.0, "Hill fit with baseline against"), (0.0, "Hill fit against")):
        df = synthetic_sweep(values=values, replicates=4, K=12.0, n=1.0, v0_per_s=v0)
        df.attrs.update(vary={"ions.na.inside_mM": list(values)}, replicates=4)
        print_sweep_summary(df, "x.parquet")
        line = [ln for ln in capsys.readouterr().out.splitlines() if "Hill fit" in ln][0]
        assert kind in line and "mM" in line, line
        k_half = float(line.split("K½ = ")[1].split(" ±")[0])
        assert 6.0 < k_half < 24.0, line
    fig = plotting.plot_sweep(synthetic_sweep(values=values, replicates=4, K=12.0, n=1.0,
                                              v0_per_s=25.0))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("v0 = " in t for t in texts), texts
    plotting.plt.close(fig)


def test_sweep_summary_warns_where_a_cycle_outlasts_the_warm_up(capsys):
    """500 ms runs have a 100 ms warm-up: at 4 cycles/s (250 ms a cycle) the summary says so;
    at 50 cycles/s it does not."""
    from particles.cli.sweep import print_sweep_summary

    for vmax, warned in ((8.0, True), (100.0, False)):
        df = synthetic_sweep(values=(80, 160), replicates=2, K=80.0, n=1.0, vmax_per_s=vmax)
        df.attrs.update(vary={"ions.na.inside_mM": [80, 160]}, replicates=2)
        print_sweep_summary(df, "x.parquet")
        out = capsys.readouterr().out
        assert ("outlasts the 100 ms warm-up" in out) is warned, out
        if warned:
            assert "ions.na.inside_mM=80" in out.split("note:")[1]


def test_sweep_title_names_the_overrides():
    meta = {"scenario": "saturation", "overrides": {"ions.na.outside_mM": 0, "seed_note": "x"}}
    assert plotting._title(meta, "f.parquet") == \
        "saturation with [Na⁺] outside = 0 mM, seed_note = x"
    assert plotting._title({}, "out/f.parquet") == "f.parquet"


def test_tracer_figure_with_replicates_counts_those_present():
    """Three replicates, one stopped early: the Poisson error of a late bin uses two."""
    phases = [("K-free", 400, 700, 0.5)]
    reps = [synthetic_run(r, t_end_ms=1000.0 if r < 2 else 600.0, dt_ms=4.0, phases=phases,
                          tracer=20000, replicate=r) for r in range(3)]
    df = pd.concat(reps, ignore_index=True)
    run, n_rep = plotting._mean_over_replicates(df)
    bins = plotting._binned_efflux(run)
    n_at = plotting._replicates_per_bin(df, bins)
    assert n_rep == 3 and n_at[0] == 3 and n_at[-1] == 2
    assert ((bins["t1"] <= 600) == (n_at == 3)).all()
    fig = plotting.plot_tracer(df)
    assert fig.axes[0].get_yscale() == "log"
    plotting.plt.close(fig)


def test_sweep_figure_dotted_columns(tmp_path):
    src = tmp_path / "sweep.parquet"
    synthetic_sweep().to_parquet(src)
    out = tmp_path / "sweep.png"
    assert plotting.plot_file(src, out) == "sweep"
    _check_png(out)


def test_sweep_figure_two_keys_from_meta(tmp_path):
    df = synthetic_sweep(values=(2, 5, 10, 20, 40), replicates=2, second=[1.0, 10.0])
    # meta.json names the varied keys; the column names need no dot then.
    df = df.rename(columns={"ions.na.inside_mM": "na_inside", "ions.k.outside_mM": "k_out_mM"})
    src = tmp_path / "sweep2.csv"
    df.to_csv(src, index=False)
    (tmp_path / "sweep2.csv.meta.json").write_text(
        json.dumps({"vary": {"na_inside": [2, 5, 10, 20, 40], "k_out_mM": [1, 10]}}))
    out = tmp_path / "sweep2.pdf"
    assert plotting.plot_file(src, out) == "sweep"
    assert out.read_bytes()[:5] == b"%PDF-"


def test_bad_extensions(tmp_path):
    src = tmp_path / "run.csv"
    synthetic_run().to_csv(src, index=False)
    # OutputError is a ScenarioError: the CLI reports it in one line with exit status 2.
    with pytest.raises(ScenarioError, match="must end in"):
        plotting.plot_file(src, tmp_path / "x.jpg")
    with pytest.raises(ScenarioError, match="must end in"):
        plotting.plot_file(tmp_path / "run.txt", tmp_path / "x.png")
    with pytest.raises(ScenarioError, match="no such results file"):
        plotting.plot_file(tmp_path / "missing.csv", tmp_path / "x.png")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ScenarioError, match="no time_ms"):
        plotting.plot_file(tmp_path / "other.csv", tmp_path / "x.png")


def test_run_figure_uses_the_windows_palette_names_and_no_negative_axes():
    """State names as in the window (E1·3Na), Okabe-Ito ion colours, counts and
    concentrations from 0 up, and a long run's occupancy averaged into bins."""
    from matplotlib.colors import to_hex

    from particles.palette import NA_RGB, hex_colour
    fig = plotting.plot_run(synthetic_run(t_end_ms=2000.0))
    ax_c, ax_v, ax_n, ax_p = fig.axes[:4]
    names = [t.get_text() for t in ax_p.get_legend().get_texts()]
    assert "E1·3Na" in names and not any("NA" in n for n in names)
    assert hex_colour(NA_RGB) in {to_hex(line.get_color()) for line in ax_c.get_lines()}
    assert ax_n.get_ylim()[0] == 0
    assert ax_c.get_yscale() == "log" or ax_c.get_ylim()[0] == 0
    assert "mean over bins" in ax_p.get_title()
    assert "mean over the run" in ax_n.get_title()
    plotting.plt.close(fig)


def test_tracer_figure_extends_the_control_line_and_prints_every_k():
    """Figure 4.11: the dashed line fitted to the first control falls with the tracer's
    rate constant (0.002 /ms = 2 /s here) and passes through the second control's points;
    both controls, K-free, DNP and washout print their k."""
    fig = plotting.plot_tracer(synthetic_hodgkin_keynes())
    ax = fig.axes[0]
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1
    x, y = (np.asarray(v, float) for v in dashed[0].get_data())
    slope = (np.log(y[1]) - np.log(y[0])) / (x[1] - x[0])
    # efflux = k N0 exp(-k t): the slope is -k; about 400 counts in control 1: a few % error
    assert slope == pytest.approx(-2.0, rel=0.15)
    texts = [t.get_text() for t in ax.texts]
    assert sum("k = " in t for t in texts) == 5  # 2 controls, K-free, DNP, washout
    assert any(t.startswith("control\nk = ") for t in texts)
    plotting.plt.close(fig)


#: The low-ATP `energetics` of the I-V sweep (reversal near -85 mV).
IV_OVERRIDES = {"atp.initial_mM": 0.3, "atp.adp_mM": 0.3, "atp.pi_mM": 8.0}
IV_CONC = {"na_in": 15.0, "na_out": 145.0, "k_in": 140.0, "k_out": 5.0}


def synthetic_iv_sweep(v_values, truth, replicates=3, n_pumps=20, t_end_ms=50.0):
    """A sweep over membrane.clamp_mV whose net cycles follow ``truth(V)`` (cycles per pump
    per ms, either sign) with a little scatter between replicates; concentrations fixed."""
    rng = np.random.default_rng(5)
    t = np.arange(0.0, t_end_ms + 0.5, 1.0)
    frames = []
    for v in v_values:
        for r in range(replicates):
            rate = truth(v) * (1 + 0.02 * rng.standard_normal())
            df = pd.DataFrame({"time_ms": t, "cycles": np.round(rate * n_pumps * t),
                               "pumps_E1": n_pumps, "v_mV": v,
                               **{f"{c}_mM": x for c, x in IV_CONC.items()}})
            df.insert(0, "replicate", r)
            df.insert(0, "membrane.clamp_mV", float(v))
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_iv_sweep_figure_with_the_master_equation_and_reversal(tmp_path):
    """A clamp-potential sweep gets the I-V view: the agents' means with CIs, the master-
    equation curve in the same unit (cycles per pump per s) through the points that follow
    it, crossing zero at the marked reversal potential, which is the scenario's."""
    from particles import Simulation, load_scenario
    from particles.energetics import ring_turnover

    sim = Simulation(load_scenario("energetics", {**IV_OVERRIDES, "membrane.clamp": True}),
                     seed=0)

    def truth(v):
        sim.set_value("membrane.clamp_mV", float(v))
        return ring_turnover(sim.cycle_rates(**IV_CONC))

    volts = [-160, -120, -80, -40, 0, 40]
    src = tmp_path / "iv.parquet"
    synthetic_iv_sweep(volts, truth).to_parquet(src)
    meta = {"vary": {"membrane.clamp_mV": volts}, "overrides": IV_OVERRIDES,
            "scenario": {"name": "energetics", "values": {"membrane.clamp_mV": -40.0}}}
    (tmp_path / "iv.parquet.meta.json").write_text(json.dumps(meta))
    out = tmp_path / "iv.png"
    assert plotting.plot_file(src, out) == "iv"
    _check_png(out)

    fig = plotting.plot_iv(pd.read_parquet(src), meta=meta)
    ax = fig.axes[0]
    curve = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 300]
    assert len(curve) == 1
    vs, js = (np.asarray(a, float) for a in curve[0].get_data())
    assert np.all(np.diff(js) > 0)  # rises with V
    for v in volts:  # per s, as the points
        assert np.interp(v, vs, js) == pytest.approx(1000 * truth(v), rel=1e-3, abs=1e-6)
    reversal = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("pump reversal")]
    assert len(reversal) == 1
    v_rev = float(reversal[0].get_xdata()[0])
    assert v_rev == pytest.approx(np.interp(0.0, js, vs), abs=0.5)  # the curve's zero
    assert -100 < v_rev < -70
    bars = [c for c in ax.containers if hasattr(c, "has_yerr")]
    assert len(bars) == 1 and bars[0].has_yerr
    points = np.asarray(bars[0].lines[0].get_ydata(), float)
    # whole cycles over 40 ms of 20 pumps: steps of 1.25 /s
    assert points == pytest.approx([1000 * truth(v) for v in volts], rel=0.05, abs=1.5)
    plotting.plt.close(fig)


def test_iv_sweep_figure_without_a_scenario_draws_the_points(tmp_path):
    """No metadata: the table's clamp column still makes it an I-V figure, without the
    master-equation curve."""
    src = tmp_path / "iv.csv"
    synthetic_iv_sweep([-100, 0], lambda v: 0.01 + 1e-4 * v, replicates=2).to_csv(src, index=False)
    assert plotting.plot_file(src, tmp_path / "iv.png") == "iv"
    fig = plotting.plot_iv(pd.read_csv(src))
    assert not [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) == 300]
    plotting.plt.close(fig)


def test_iv_sweep_figure_names_a_reversal_potential_off_its_scale():
    """Swept only above the reversal potential (about -85 mV here): no line, a note."""
    volts = [-40, 0, 40]
    meta = {"vary": {"membrane.clamp_mV": volts}, "overrides": IV_OVERRIDES,
            "scenario": "energetics"}
    fig = plotting.plot_iv(synthetic_iv_sweep(volts, lambda v: 0.02 + 1e-4 * v), meta=meta)
    ax = fig.axes[0]
    assert not [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("pump reversal")]
    notes = [t.get_text() for t in ax.texts if "off scale" in t.get_text()]
    assert len(notes) == 1 and "-8" in notes[0], notes
    plotting.plt.close(fig)
