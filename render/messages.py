"""What the window says to its audience: why a control cannot act in this scenario, the
phase a control starts, the note when a clamped bath will pull a concentration back, and the
speed actually achieved. Plain sentences, no configuration keys."""

from __future__ import annotations

import numpy as np

from particles.layout import Side, Species

ION_NAMES = {"na": "Na⁺", "k": "K⁺"}

#: The phase label a control starts (shown in the top bar and the panel).
PHASES = {"k_free": "K⁺-free bath", "restore_k": "K⁺ restored", "poison": "poisoned (DNP)",
          "washout": "washout", "ouabain": "ouabain"}


def refusal(sim, action: str, **params) -> str | None:
    """Why the control ``action`` cannot act on ``sim`` now, in a sentence; None if it can."""
    v = sim.scenario.values
    if action in ("k_free", "restore_k") and not v["bath.clamped"]:
        return ("This scenario has no perfused bath, so the outside K⁺ cannot be removed or "
                "restored. Try the ouabain or poison scenarios.")
    if action in ("stimulate", "action_potential"):
        if v["channels.nav_count"] + v["channels.kv_count"] == 0:
            return ("This scenario has no voltage-gated channels, so a stimulus cannot start "
                    "an action potential. Try the action-potentials scenario.")
        if v["membrane.clamp"]:
            return "The voltage clamp holds V, so a stimulus cannot move it."
    if action in ("poison", "ouabain") and len(sim.pumps) == 0:
        return "This scenario has no pumps, so there is nothing to poison or block."
    if action == "load_tracer":
        inside = (sim.ions.side == Side.INSIDE) & (sim.ions.species == Species.NA)
        if not np.any(inside & ~sim.ions.tracer):
            return "There is no unlabelled Na⁺ inside left to label."
    if action == "remove_ions":
        s = Species.NA if params["species"] == "na" else Species.K
        side = Side.INSIDE if params["side"] == "inside" else Side.OUTSIDE
        i = sim.ions
        if not np.any((i.side == side) & (i.species == s) & ~i.bound):
            return f"There is no free {ION_NAMES[params['species']]} {params['side']} to remove."
    return None


def clamp_note(sim, species: str, side: str) -> str:
    """The note after adding or removing ions on ``side``: the perfused bath (outside) or
    the dialysis (inside) holds that side and will pull the concentration back; empty when
    nothing holds it."""
    v = sim.scenario.values
    key = "bath.clamped" if side == "outside" else "dialysis.clamped"
    if not v.get(key):
        return ""
    held = (sim.bath_mM[0 if species == "na" else 1] if side == "outside"
            else v[f"ions.{species}.inside_mM"])
    what = "perfused bath" if side == "outside" else "dialysis"
    return (f" The {what} holds {ION_NAMES[species]} {side} at {held:.3g} mM, so it will "
            "pull back.")


def fmt_rate(ms_per_s: float) -> str:
    """A playback rate (simulated ms per real second) with 2 significant digits."""
    def two(x):
        return f"{float(f'{x:.2g}'):g}"

    if ms_per_s >= 1000:
        return f"{two(ms_per_s / 1000)} s/s"
    if ms_per_s >= 1:
        return f"{two(ms_per_s)} ms/s" if ms_per_s < 10 else f"{ms_per_s:.0f} ms/s"
    return f"{two(ms_per_s * 1000)} µs/s"


def speed_label(speed: float, target: float, achieved: float | None,
                slowed: bool = False) -> str:
    """The top bar's speed: the factor, the simulated time per real second achieved, and
    ``(behind: …)`` when the machine cannot keep up with ``target`` (ms/s at this speed)
    by more than 10 %. ``achieved`` None: not measured yet (the target is shown).
    ``slowed``: the playback is slowed around a spike (``target`` is the slowed rate)."""
    factor = f"×{speed:g}" if speed >= 1 else f"×1/{round(1 / speed)}"
    if slowed:
        factor += " slowed for the spike"
    if achieved is None:
        return f"{factor} = {fmt_rate(target)}"
    text = f"{factor}: {fmt_rate(achieved)}"
    if achieved < 0.9 * target:
        text += f" (behind: {fmt_rate(target)} asked)"
    return text
