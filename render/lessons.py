"""Things to try, per built-in scenario: what the window's help (H) suggests, in the words
of docs/teaching.md (which says more: what each scenario shows, what to say, the question
it answers)."""

from __future__ import annotations

#: Scenario name -> short suggestions, each naming the keys to press.
TRY: dict[str, list[str]] = {
    "pump-cycle": [
        "Click a pump to follow it; N pauses at its next step, and the caption says what "
        "happened.",
        "Press K for a K⁺-free bath: the followed pump waits in E2P with empty K⁺ sites "
        "(now and then an outside Na⁺ takes a K⁺ site instead). K again restores K⁺.",
        "Press D (poison): no new ATP is made; as ATP runs down the pumps wait longer in "
        "E1·3Na for ATP. D again washes out.",
        "Press O: ouabain locks pumps in E2P (grey, with a green plug).",
    ],
    "resting": [
        "Each pump completes about 10 net cycles per simulated second, so at ×1 a whole "
        "cycle is rare: `resting-timelapse` shows them at ×1.",
        "Press A to stimulate: a pulse of current lifts V; if it reaches threshold the gated "
        "Na⁺ pores open (clear passage), then inactivate (ball in the mouth) as the K⁺ pores "
        "open. Below threshold V just falls back.",
        "Press 1 to add 5 mM Na⁺ inside: the turnover rises (the pumps are not saturated).",
        "Press O: 1 µM ouabain at its real binding rate blocks a pump only after minutes of "
        "simulated time, so nothing changes while you watch (`ouabain` uses a time-scaled "
        "dose).",
    ],
    "resting-timelapse": [
        "Click a pump to follow it: at ×1 it completes a cycle every few seconds (3 Na⁺ out, "
        "2 K⁺ in); N pauses at its next step and names it.",
        "Watch the concentrations and V in the panel: they hold, because the leak pores let "
        "back 3 Na⁺ and 2 K⁺ for every cycle.",
        "Press D (poison): ATP runs down over 10–20 simulated ms, the pumps slow, V "
        "depolarises by 1–2 mV and Na⁺ inside creeps up. D again washes out.",
        "Press 1 to add 5 mM Na⁺ inside: the turnover rises (the pumps are not saturated).",
    ],
    "recovery": [
        "Watch the train of spikes load the cell with Na⁺, then Na⁺ inside fall back towards "
        "12 mM in the panel's concentration chart as the pumps clear it.",
        "Press A to stimulate: a pulse of current lifts V (a spike if it reaches "
        "threshold), and the pumps clear whatever Na⁺ came in.",
        "Press O: with the pumps blocked the extra Na⁺ stays inside.",
    ],
    "action-potentials": [
        "Watch the V chart: each stimulus (shaded) brings V to threshold and a spike "
        "overshoots 0 mV; the playback slows around each spike so it can be seen at ×1.",
        "Watch the pores: Na⁺ pores open (clear passage), then inactivate (ball in the "
        "mouth) while the K⁺ pores open; the panel counts the Na⁺ that entered per spike.",
        "After the train the pump current rises and V dips below rest for a while: the "
        "pump-driven after-hyperpolarisation.",
        "After the train press A, then A again within about 2 s (2 simulated ms at the "
        "slowed playback): the second stimulus gives no spike (the refractory period); a "
        "few seconds later it does.",
        "Run it again with ouabain from the start (`ionpump watch action-potentials --set "
        "ouabain.concentration_mM=200`, a time-scaled dose): no after-hyperpolarisation, and "
        "the Na⁺ stays in.",
    ],
    "hodgkin-keynes": [
        "Watch the log-scale efflux chart: a straight falling line in control, a dip in "
        "the K-free bath (25–50 ms), a deep fall under DNP (75–115 ms), recovery at washout.",
        "Press L to pick out the labelled ²⁴Na⁺ among the other ions.",
        "After the run, `ionpump plot` draws the control line extended over the whole run.",
    ],
    "ouabain": [
        "At 30 ms ouabain arrives: watch V in the panel rise by a few mV as the pumps lock.",
        "Then Na⁺ inside creeps up and K⁺ inside down: nothing pumps them back.",
        "Press D twice (poison, then washout: it removes the ouabain too) and watch the "
        "pumps restart.",
    ],
    "saturation": [
        "Press 1 (add Na⁺ inside) a few times: the dialysis brings it back; the turnover "
        "answers for a moment.",
        "The saturation curves come from `ionpump sweep saturation` (see the README).",
    ],
    "energetics": [
        "Watch the turnover (last 5 ms): at 20 ms ATP drops and ADP and Pi rise, and the "
        "pumps slow.",
        "At 40 ms the clamp steps V to −130 mV, past the pump's reversal potential: the "
        "turnover turns negative, the pumps run backwards (K⁺ out, Na⁺ in, ATP made).",
        "At 60 ms V returns to −40 mV and they run forward; at 100 ms ATP is restored.",
        "Press D (poison) early on: ATP runs down and the pumps stall.",
    ],
}


def things_to_try(name: str) -> list[str]:
    """The suggestions for scenario ``name`` (none for a scenario of one's own)."""
    return TRY.get(name, [])
