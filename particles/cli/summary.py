"""The summary ``ionpump run`` prints: headline figures, fluctuations and the phase table."""

from __future__ import annotations


def print_summary(sim, df, wall_s: float, out) -> None:
    """Print the run's figures (pumping, ATP, potential, concentrations, Fano factors), the
    results path and, when the run went through several protocol phases, the phase table.

    Args:
        sim: the simulation, at the end of the run.
        df: its results table (``sim.timeseries()``).
        wall_s: wall-clock time of the run (s).
        out: path of the results file (None: not written).
    """
    from ..config import printable
    from ..observe import summarize

    s = summarize(sim)
    lines = [
        ("scenario", f"{printable(sim.scenario.name)} (seed {sim.seed})"),
        ("simulated", f"{sim.time_ms:.4g} ms in {len(sim.ions):,} ions, {s['pumps']} pumps"),
        ("wall time", f"{wall_s:.1f} s"),
        ("cycles", f"{s['cycles']} ({s['cycles_per_pump_per_s']:.1f} per pump per s)"),
        ("Na+ out : ions in", f"{s['na_pumped_out']} : {s['k_pumped_in']} K+ "
                              f"+ {s['na_pumped_in']} Na+"),
        ("net charge out", f"{s['net_charge_out']} e"),
        ("ATP used", f"{s['atp_used']} molecules; ATP now {s['atp_mM_end']:.3g} mM"),
        ("potential", f"{s['v_mV_end']:.2f} mV"),
    ]
    if len(df):
        last = df.iloc[-1]
        lines.append(("inside", f"Na+ {last['na_in_mM']:.3g} mM, K+ {last['k_in_mM']:.3g} mM"))
        lines.append(("outside", f"Na+ {last['na_out_mM']:.3g} mM, K+ {last['k_out_mM']:.3g} mM"))
    lines += _fluctuation_lines(sim, df)
    lines.append(("results", "not written (no --out)" if out is None else str(out)))
    w = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"  {k:<{w}}  {v}")
    _print_phases(df)


def _print_phases(df) -> None:
    """Per-phase table (tracer efflux rate constant, turnover, mean potential) when the run
    went through more than one protocol phase (observe.phase_summary)."""
    from ..config import printable
    from ..observe import phase_summary

    if len(df) < 3:
        return
    ph = phase_summary(df)
    if len(ph) < 2:
        return
    print(f"  {'phase':<10} {'from-to ms':>13} {'k efflux /ms':>20} {'cycles/pump/s':>14} "
          f"{'V mV':>7}")
    for _, r in ph.iterrows():
        k = "-" if r["tracer_efflux"] == 0 and not r["k_per_ms"] > 0 else \
            f"{r['k_per_ms']:.5f} ± {r['k_se_per_ms']:.5f}"
        print(f"  {printable(r['phase']):<10} {r['t_start_ms']:>6.4g}-{r['t_end_ms']:<6.4g} {k:>20} "
              f"{r['cycles_per_pump_per_s']:>14.1f} {r['v_mV_mean']:>7.1f}")


def _fluctuation_lines(sim, df) -> list[tuple[str, str]]:
    """Fano factors of the cycle count (one pump, whole membrane) after a 20 % warm-up, each
    only when the cycle rate is stationary there, and the value from the rates, always with
    the same caveat (:data:`particles.reports.FANO_CAVEAT`)."""
    hist = sim.pump_cycles_history()
    if hist.shape[1] == 0 or len(df) < 20 or hist[-1].sum() < 20:
        return []
    from ..reports import FANO_CAVEAT, fluctuation_report

    warmup = 0.2 * sim.time_ms
    try:
        rep = fluctuation_report(df["time_ms"].to_numpy(), hist,
                                 [k for _, k in sim.cycle_steps() if k > 0], warmup_ms=warmup)
    except ValueError:
        return []
    out = []
    for label, key in (("Fano, one pump", "pump"), ("Fano, membrane", "membrane")):
        f = rep[key]
        if f["stationary"]:
            out.append((label, f"{f['value']:.2f} (95 % CI {f['ci_low']:.2f}-{f['ci_high']:.2f}, "
                               f"after {warmup:.3g} ms)"))
        else:
            change = _rate_change(df, hist, warmup)
            out.append((label, f"not stationary after {warmup:.3g} ms ({change}): no Fano "
                               "factor"))
    if "theory" in rep:
        out.append(("Fano from rates", f"{rep['theory']['fano']:.2f} {FANO_CAVEAT}"))
    return out


def _rate_change(df, hist, warmup_ms: float) -> str:
    """"cycles 890 -> 0 per pump per s": the turnover in the first and last quarter of the
    run after the warm-up."""
    t = df["time_ms"].to_numpy(dtype=float)
    i0 = int(t.searchsorted(t[0] + warmup_ms))
    q = max(1, (len(t) - 1 - i0) // 4)
    n = hist.shape[1]

    def rate(a, b):
        return 1000.0 * float(hist[b].sum() - hist[a].sum()) / (n * (t[b] - t[a]))

    last = len(t) - 1
    return f"cycles {rate(i0, i0 + q):.3g} -> {rate(last - q, last):.3g} per pump per s"
