"""Every code and index layout of the simulation, in one registry.

The simulation state is plain arrays (:mod:`particles.state`) and the kernels
(:mod:`particles.kernels`) are numba functions over them; what an integer in those arrays
means is declared here and nowhere else:

- codes: :class:`Species`, :class:`Side`, :class:`PumpState`, :class:`ChannelType`
  (``IntEnum`` for names; observers, protocol and renderer use these);
- slot layouts of the kernel's vectors: transition probabilities ``P_*``, event counters
  ``C_*``, channel-crossing columns ``CHP_*``, parameters ``PAR_*``, environment ``ENV_*``,
  bath targets ``TARGET_*``, random streams ``STREAM_*``, pump sites;
- the groups of arrays the kernel entry takes (:class:`IonArrays`, :class:`PumpArrays`,
  :class:`ChannelArrays`, :class:`Scratch`).

numba reads module-level ``int`` globals as compile-time constants, so kernels import the
plain-int names (``NA``, ``E2P``, ``PAR_DT`` ...), never ``IntEnum`` members: a member mixed
with a float inside njit code fails to compile ("Cannot cast IntEnum<int64> to float64").

Adding a pump state or an ion species: declare it here (the enum member, its plain-int
alias, any slot it needs), then write its physics in the kernels; the results columns
(``pumps_<STATE>``, ``<species>_in`` ...), ion placement, diffusion steps, exchange
counters and checkpoints follow from the enums.
"""

from __future__ import annotations

from collections import namedtuple
from enum import IntEnum

# ---------------------------------------------------------------------------- codes


class Species(IntEnum):
    """Ion species codes (``Ions.species``); the lower-case name is the scenario's key stem
    (``ions.na.D``) and the protocol's ``species`` parameter."""

    NA = 0
    K = 1


class Side(IntEnum):
    """Compartment codes (``Ions.side``): inside is left of the membrane. RESERVOIR holds
    ions outside the simulated world (the perfused bath's supply); they do not move and are
    not counted."""

    INSIDE = 0
    OUTSIDE = 1
    RESERVOIR = 2


class PumpState(IntEnum):
    """Post-Albers conformations (``Pumps.state``), MODEL.md §2 and §2b. Every step is
    reversible; the cycle is a ring of 14 states (:data:`CYCLE_STATES`).

    E1: inward-open; its Na+ sites fill from inside (``Pumps.n_na`` of 3, ions unbind back
        inside), or it holds K+ on its K+ sites (``n_k`` of 2, released inside one by one, or
        bound from inside: internal K+ competes with Na+).
    E1_3NA: inward-open, 3 Na+ bound, waiting for ATP (Na+ can still unbind).
    E1P_3NA: phosphorylated, Na+ occluded (back to E1_3NA with ADP: ATP made).
    E2P: outward-open; releases its Na+ one by one (external Na+ rebinds), then K+ sites fill
        (``n_k`` of 2; K+ unbinds back outside).
    E2P_2K: two ions on the K+ sites, still phosphorylated.
    E2_2K: dephosphorylated (Pi released; Pi rebinding runs it back), occluded, waiting to
        turn inward (faster with ATP); turning inward gives E1 holding the two K+.
    BLOCKED: ouabain bound to E2P; locked until ouabain leaves.
    """

    E1 = 0
    E1_3NA = 1
    E1P_3NA = 2
    E2P = 3
    E2P_2K = 4
    E2_2K = 5
    BLOCKED = 6


class ChannelType(IntEnum):
    """Channel pore types (``Channels.type``), in the order of the scenario's channel kinds.

    The code packs two fields: species = ``type & 1`` (a :class:`Species` code) and group =
    ``type >> 1`` (:data:`GROUP_LEAK`: always open; :data:`GROUP_GATED`: voltage-gated,
    opened by action potentials)."""

    NA_LEAK = 0
    K_LEAK = 1
    NAV = 2
    KV = 3


GROUP_LEAK, GROUP_GATED = 0, 1
N_CH_GROUPS = 2

#: Protocol names of the species and of the compartments an exchange may use.
SPECIES_BY_NAME = {s.name.lower(): s for s in Species}
SIDE_BY_NAME = {"inside": Side.INSIDE, "outside": Side.OUTSIDE}

# Plain-int aliases for numba kernels.
NA, K = int(Species.NA), int(Species.K)
N_SPECIES = len(Species)
INSIDE, OUTSIDE, RESERVOIR = int(Side.INSIDE), int(Side.OUTSIDE), int(Side.RESERVOIR)
E1, E1_3NA, E1P_3NA = int(PumpState.E1), int(PumpState.E1_3NA), int(PumpState.E1P_3NA)
E2P, E2P_2K, E2_2K = int(PumpState.E2P), int(PumpState.E2P_2K), int(PumpState.E2_2K)
BLOCKED = int(PumpState.BLOCKED)
CH_NAV, CH_KV = int(ChannelType.NAV), int(ChannelType.KV)
N_CH_TYPES = len(ChannelType)

# ---------------------------------------------------------------------------- pump sites

#: Columns of ``Pumps.sites (m, N_SITES)``: Na+ sites first, then K+ sites.
NA_SITES = 3
K_SITES = 2
N_SITES = NA_SITES + K_SITES

# ---------------------------------------------------------------------------- gating

# Hodgkin-Huxley gating as Markov chains (MODEL.md §4b; Skaugen & Walløe 1979, Chow & White
# 1996). A Nav pore's state is ``m + NAV_M_STATES·h`` (m = 0..3 activation gates open, h =
# 0 or 1: the inactivation gate open); it conducts only in NAV_OPEN (m3h1). A Kv pore's
# state is n = 0..4 gates open; it conducts only in KV_OPEN (n4). ``Channels.gate (n_ch,)``
# int8 holds these for gated pores (leak pores: 0, always conducting).
NAV_M_STATES = 4
NAV_STATES = 2 * NAV_M_STATES
NAV_OPEN = NAV_STATES - 1
KV_STATES = 5
KV_OPEN = KV_STATES - 1
# HH rate slots of ``hh (N_HH,)`` (1/ms, already scaled by the Q10 factor):
HH_AM, HH_BM, HH_AH, HH_BH, HH_AN, HH_BN = 0, 1, 2, 3, 4, 5
N_HH = 6

# The pumps of the rest of the membrane as counts on the cycle's ring of 14 states
# (:data:`particles.energetics.CYCLE_STEP_NAMES`: step j leads from ring state j to j + 1),
# plus the ouabain-blocked state reached from the empty E2P.
RING_STATES = 14
RING_E2P_EMPTY = 8  # E2P after its three Na+ left: K+ binds next, or ouabain
RING_BLOCKED = RING_STATES
N_RING = RING_STATES + 1
RING_NA_OUT_STEPS = (5, 6, 7)  # one Na+ released outside each (one charge out)
RING_K_IN_STEPS = (12, 13)  # one K+ released inside each (one charge in)

# ---------------------------------------------------------------------------- probabilities

# First-order rates in force this step (1/ms), ``rate (N_RATE,)``, ATP-, ADP-, Pi- and
# voltage-dependent ones evaluated for this step; backward steps end in ``_B``.
R_PHOS = 0  # E1_3NA -> E1P_3NA (ATP-dependent)
R_OCC = 1  # E1P_3NA -> E2P (voltage-dependent)
R_NAREL = 2  # release of one Na+ outside from E2P (voltage-dependent)
R_DEPHOS = 3  # E2P_2K -> E2_2K (Pi released)
R_RET = 4  # E2_2K -> E1 holding 2 K+ (faster with ATP)
R_OUA_ON = 5  # empty E2P -> BLOCKED (ouabain-dependent)
R_OUA_OFF = 6  # BLOCKED -> E2P
R_PHOS_B = 7  # E1P_3NA + ADP -> E1_3NA + ATP
R_OCC_B = 8  # E2P with 3 Na+ -> E1P_3NA (voltage-dependent)
R_DEPHOS_B = 9  # E2_2K + Pi -> E2P_2K
R_RET_B = 10  # E1 holding 2 K+ -> E2_2K (detailed balance)
R_NA_OFF_IN = 11  # one Na+ unbinds from E1 back inside
R_K_REL_IN = 12  # one K+ released inside from E1
R_K_OFF_OUT = 13  # one K+ unbinds from E2P back outside
R_STICK_REBIND = 14  # sticking probability of external Na+ on E2P's Na+ sites (V-dependent)
N_RATE = 15

# ---------------------------------------------------------------------------- counters

# Cumulative event counters, ``counters (N_COUNTERS,)`` int64.
C_CYCLES = 0  # net completed cycles, all pumps (forward minus backward)
C_NA_OUT = 1  # net Na+ released outside by pumps (released minus rebound from outside)
C_K_IN = 2  # net K+ released inside by pumps (released minus bound from inside)
C_NA_IN = 3  # Na+ carried inside on the K+ sites (congener)
C_TRACER_EFFLUX = 4  # labelled Na+ released outside by pumps or passing channels outward
C_ATP_USED = 5  # net phosphorylations (ATP used minus ATP made by pumps)
C_NA_CAPTURED = 6  # Na+ captured at inner faces
C_K_CAPTURED = 7  # ions captured at outer faces (K+, congener Na+ or rebinding Na+)
# An exchange block: ``base + species`` ions added, ``base + N_SPECIES + species`` removed.
C_BATH_ADDED = 8  # perfused bath (outside) and manual exchanges
C_BATH_REMOVED = C_BATH_ADDED + N_SPECIES
C_CHARGE_OUT = C_BATH_REMOVED + N_SPECIES  # net elementary charges carried outward by pumps
C_DIALYSIS = C_CHARGE_OUT + 1  # internal dialysis (inside): an exchange block
C_DIALYSIS_REMOVED = C_DIALYSIS + N_SPECIES
C_CHANNEL = C_DIALYSIS_REMOVED + N_SPECIES  # + CHP_* column: channel crossings
N_COUNTERS = 32  # room for later counters (checkpoints store all of them)

# ---------------------------------------------------------------------------- ion counts

# Output of the ion count, ``(N_COUNT,)`` int64: free ions ``COUNT_FREE + 2·species + side``
# (Na+ in, Na+ out, K+ in, K+ out), bound ions ``COUNT_BOUND + species``, labelled Na+ on
# the inside (free or bound).
COUNT_FREE = 0
COUNT_BOUND = COUNT_FREE + 2 * N_SPECIES
COUNT_TRACER_IN = COUNT_BOUND + N_SPECIES
N_COUNT = COUNT_TRACER_IN + 1

# ---------------------------------------------------------------------------- channel crossings

# Columns of the per-chunk channel crossing counts ``ch_part (n_chunks, N_CHP)``: first
# ``group·CHP_GROUP_STRIDE + species·2 + direction`` (see :func:`chp_column`), then
# labelled Na+ out and in. Reduced in chunk order into ``counters[C_CHANNEL + column]``.
INWARD, OUTWARD = 0, 1  # direction of a crossing: outside -> inside, inside -> outside
CHP_GROUP_STRIDE = 2 * N_SPECIES
CHP_CROSSINGS = N_CH_GROUPS * CHP_GROUP_STRIDE  # columns counting ions by kind
CHP_TRACER_OUT = CHP_CROSSINGS
CHP_TRACER_IN = CHP_CROSSINGS + 1
N_CHP = CHP_CROSSINGS + 2

# Counters after the channel block (``counters`` slots, see above).
C_CYCLES_FWD = C_CHANNEL + N_CHP  # forward cycles (E2_2K -> E1), cumulative
C_CYCLES_BWD = C_CYCLES_FWD + 1  # backward cycles (E1 holding 2 K+ -> E2_2K), cumulative
C_PI_RELEASED = C_CYCLES_BWD + 1  # net Pi released by pumps (dephosphorylations)
assert C_PI_RELEASED < N_COUNTERS


def chp_column(group: int, species: int, direction: int) -> int:
    """Column of ``ch_part`` counting crossings of ``species`` through pores of ``group``
    in ``direction`` (:data:`INWARD` or :data:`OUTWARD`)."""
    return group * CHP_GROUP_STRIDE + species * 2 + direction


# ---------------------------------------------------------------------------- parameters

# ``par (N_PAR,)`` float64: constant between protocol ``set`` events (derived from the
# scenario's values by the simulation). Units in the comments.
PAR_DT = 0  # time step (ms)
PAR_K_PHOS = 1  # phosphorylation rate at saturating ATP (1/ms)
PAR_KM_ATP = 2  # ATP half-saturation of phosphorylation (mM)
PAR_K_OCC = 3  # E1P -> E2P at V = 0 (1/ms)
PAR_K_NAREL = 4  # Na+ release (1/ms)
PAR_K_DEPHOS = 5  # dephosphorylation (1/ms)
PAR_K_RET0 = 6  # E2 -> E1 without ATP (1/ms)
PAR_K_RET_ATP = 7  # E2 -> E1 at saturating ATP (1/ms)
PAR_KM_ATP_LOW = 8  # ATP half-saturation of the return (mM)
PAR_K_OUA_ON = 9  # ouabain binding (1/(mM ms))
PAR_K_OUA_OFF = 10  # ouabain unbinding (1/ms)
PAR_Z_OCC = 11  # charge moved in E1P -> E2P (e); the rest moves with the 3 Na+ released
PAR_ATP_PROD = 12  # ATP production (mM/ms)
PAR_ATP_BASAL = 13  # basal ATP consumption (1/ms)
PAR_MM_PER_ATP = 14  # mM of one ATP molecule inside
PAR_C = 15  # membrane capacitance (µF/cm²)
PAR_GL = 16  # leak conductance (mS/cm²)
PAR_EL = 17  # leak reversal potential (mV)
PAR_J_PER_CHARGE = 18  # current density of one charge per step (µA/cm²)
PAR_TAU_J = 19  # averaging window of the pump current (ms)
PAR_BATH_EVERY = 20  # steps between bath and dialysis exchanges
PAR_ATP_REGEN = 21  # ATP regeneration towards PAR_ATP_SET (1/ms)
PAR_ATP_SET = 22  # ATP set point (mM)
PAR_PHI = 23  # Q10 factor of the gating rates at the membrane's temperature
PAR_POP = 24  # 1: the rest of the membrane is a population (ENV_POP), 0: the patch alone
PAR_RECOUNT_EVERY = 25  # steps between recounts of the concentrations the population sees
PAR_TAU_JCH = 26  # averaging window of the channel current (ms)
PAR_CH_BIAS = 27  # 1: the potential biases pore passage, 0: it does not
PAR_WIDTH = 28  # box width (µm)
PAR_HEIGHT = 29  # box height, the membrane's length (µm)
PAR_X_IN = 30  # x of the membrane's inner face (µm)
PAR_X_OUT = 31  # x of the membrane's outer face (µm)
PAR_X_MEM = 32  # x of the membrane's midline (µm)
PAR_FACE_HALF = 33  # half width of a pump face (µm)
PAR_BATH_X0 = 34  # the bath's exchange zone is x > PAR_BATH_X0 (µm)
PAR_DIALYSIS_X1 = 35  # the dialysis zone is x < PAR_DIALYSIS_X1 (µm)
PAR_CH_HALF = 36  # half width of a channel pore (µm)
PAR_SIGMA = 37  # + species: rms step per axis sqrt(2 D dt) (µm); released ions land
# within about one of these of the face
PAR_P_STICK = PAR_SIGMA + N_SPECIES  # + P_STICK_*: sticking probability per crossing
# Na+ on E1's Na+ sites, K+ on E2P's K+ sites, Na+ congener on them, external Na+ back on
# E2P's Na+ sites (at V = 0; the step scales it by the voltage), internal K+ on E1's K+ sites.
P_STICK_NA_INNER, P_STICK_K_OUTER, P_STICK_NA_OUTER = 0, 1, 2
P_STICK_NA_REBIND, P_STICK_K_INNER = 3, 4
N_P_STICK = 5
PAR_SITE_DX = PAR_P_STICK + N_P_STICK  # + site: x of each pump site from the midline (µm)
PAR_SITE_DY = PAR_SITE_DX + N_SITES  # + site: y of each pump site from the pump centre (µm)
PAR_K_PHOS_B = PAR_SITE_DY + N_SITES  # E1P_3NA -> E1_3NA at saturating ADP (1/ms)
PAR_KM_ADP = PAR_K_PHOS_B + 1  # ADP half-saturation of the back-phosphorylation (mM)
PAR_K_OCC_B = PAR_KM_ADP + 1  # E2P(3Na) -> E1P_3NA at V = 0 (1/ms)
PAR_K_DEPHOS_B = PAR_K_OCC_B + 1  # E2_2K + Pi -> E2P_2K (1/(mM ms))
PAR_KEQ_RET = PAR_K_DEPHOS_B + 1  # E2_2K <-> E1(2K) equilibrium constant (detailed balance)
PAR_K_NA_OFF_IN = PAR_KEQ_RET + 1  # Na+ unbinding from E1 (1/ms)
PAR_K_K_REL_IN = PAR_K_NA_OFF_IN + 1  # K+ release inside from E1 (1/ms)
PAR_K_K_OFF_OUT = PAR_K_K_REL_IN + 1  # K+ unbinding from E2P outside (1/ms)
PAR_Z_NA = PAR_K_K_OFF_OUT + 1  # charge moved with the release of each Na+ outside (e)
PAR_VT = PAR_Z_NA + 1  # thermal voltage RT/F (mV)
PAR_CLAMP = PAR_VT + 1  # 1: V held at PAR_CLAMP_MV
PAR_CLAMP_MV = PAR_CLAMP + 1  # clamp potential (mV)
PAR_ADP_SET = PAR_CLAMP_MV + 1  # ADP set point metabolism restores (mM)
PAR_PI_SET = PAR_ADP_SET + 1  # Pi set point (mM)
PAR_CH_RATE = PAR_PI_SET + 1  # + channel type: one pore's passage rate per mM (1/(mM ms))
PAR_POP_LEAK = PAR_CH_RATE + N_CH_TYPES  # + species: leak pores in the rest of the membrane
PAR_KON_NA = PAR_POP_LEAK + N_SPECIES  # Na+ binding to E1 per mM (1/(mM ms))
PAR_KON_K = PAR_KON_NA + 1  # K+ binding to E2P per mM (1/(mM ms))
PAR_KON_NA_OUT = PAR_KON_K + 1  # external Na+ rebinding to E2P per mM at V = 0 (1/(mM ms))
PAR_KON_K_IN = PAR_KON_NA_OUT + 1  # internal K+ binding to E1 per mM (1/(mM ms))
PAR_MM_PER_ION = PAR_KON_K_IN + 1  # + side (INSIDE, OUTSIDE): mM of one free ion there
PAR_CONC_WEIGHT = PAR_MM_PER_ION + 2  # weight of each recount in the smoothed concentrations
PAR_KP_REBIND = PAR_CONC_WEIGHT + 1  # external Na+ rebinding's κ' = κ·sqrt(dt/2D) at V = 0
N_PAR = PAR_KP_REBIND + 1

# ---------------------------------------------------------------------------- environment

# ``env (N_ENV,)`` float64: state the kernel advances and protocol events set. Saved in
# checkpoints in this order.
ENV_ATP = 0  # ATP (mM)
ENV_V = 1  # membrane potential, inside minus outside (mV)
ENV_J = 2  # pump current density, outward, averaged (µA/cm²)
ENV_OUABAIN = 3  # ouabain in the bath (mM)
ENV_POISONED = 4  # 1 while a metabolic poison stops ATP production
ENV_BATH_ON = 5  # 1: the perfused bath exchanges ions
ENV_DIALYSIS_ON = 6  # 1: internal dialysis exchanges ions
ENV_JCH = 7  # channel current density, outward, averaged (µA/cm²)
ENV_STIM_START = 8  # the train of current stimuli in force: start (ms),
ENV_STIM_COUNT = 9  # number of pulses,
ENV_STIM_INTERVAL = 10  # interval between their starts (ms),
ENV_ADP = 11  # ADP inside (mM)
ENV_PI = 12  # Pi inside (mM)
ENV_STIM_AMP = 13  # amplitude of each pulse (µA/cm², positive depolarises),
ENV_STIM_DUR = 14  # and duration of each (ms)
ENV_I_STIM = 15  # stimulus current injected now (µA/cm², positive depolarises)
ENV_SPIKES = 16  # spikes so far: upward crossings of 0 mV
ENV_JPOP_PUMP = 17  # pump current of the rest of the membrane, outward (µA/cm²)
ENV_JPOP_CH = 18  # channel current of the rest of the membrane, outward (µA/cm²)
ENV_CONC = 19  # + 2·species + side: the concentrations the population sees (mM)
ENV_NUC = ENV_CONC + 2 * N_SPECIES  # + 0, 1, 2: the ATP, ADP, Pi it sees (mM)
# The rest of the membrane (PAR_POP = 1): how many of its channels and pumps are in each
# state (whole numbers; ``ENV_POP + POP_*``).
ENV_POP = ENV_NUC + 3
POP_NAV = 0  # + Nav state (NAV_STATES)
POP_KV = POP_NAV + NAV_STATES  # + Kv state (KV_STATES)
POP_PUMP = POP_KV + KV_STATES  # + pump ring state (N_RING)
N_POP = POP_PUMP + N_RING
N_ENV = ENV_POP + N_POP

# ``bath_target (N_TARGET,)`` float64: mean ions per species held in the exchange zones.
TARGET_BATH = 0  # + species: perfused bath zone (outside)
TARGET_DIALYSIS = N_SPECIES  # + species: dialysis zone (inside)
N_TARGET = 2 * N_SPECIES

# ---------------------------------------------------------------------------- random streams

# One stream per use of randomness within a step (:mod:`particles.rng`).
STREAM_MOVE = 1  # Gaussian displacements of ions
STREAM_STICK = 2  # sticking trial at a pump face
STREAM_PUMP = 3  # pump transitions
STREAM_PLACE = 4  # placement of released ions
STREAM_CHANNEL = 5  # channel passage trial
STREAM_BATH = 6  # bath exchanges and tracer loading
STREAM_MOVE_TAIL = 7  # slow path of the ziggurat for displacements
STREAM_BATH_COUNT = 8  # whole number of ions a bath/dialysis exchange puts in its zone
STREAM_GATE = 9  # gating transitions of the patch's voltage-gated pores (index: pore)
STREAM_POPULATION = 10  # the rest of the membrane: its channels' and pumps' state counts


# ---------------------------------------------------------------------------- array groups

#: The ion arrays, ``(n,)`` each, in the order of :class:`particles.state.Ions`.
IonArrays = namedtuple("IonArrays", "x y species side bound tracer")
#: The pump arrays, ``(m,)`` each (``sites (m, N_SITES)``), as :class:`particles.state.Pumps`.
PumpArrays = namedtuple("PumpArrays", "y state n_na n_k sites cycles")
#: The channel arrays: pore centres ``y (n_ch,)`` µm, ``type (n_ch,)`` int8
#: :class:`ChannelType` codes, bin map ``bins (B,)`` int32, passage probability at V = 0
#: per type ``p0 (N_CH_TYPES,)``, gating state ``gate (n_ch,)`` int8 (NAV_*/KV_* codes; 0 for
#: leak pores).
ChannelArrays = namedtuple("ChannelArrays", "y type bins p0 gate")
#: Per-step scratch of the kernels: capture proposals ``prop_ion``, ``prop_pump`` ``(n,)``
#: int32 (a pump index, plus the pump count for a congener Na+ on the K+ sites) and
#: ``prop_count (n_chunks,)`` int64; rates ``rate (N_RATE,)``; passage probabilities
#: ``ch_pass (N_CH_TYPES, 2)``; crossings per chunk ``ch_part (n_chunks, N_CHP)`` int64.
#: Gating and population scratch: HH rates ``hh (N_HH,)``; transition-rate matrices
#: ``q_nav (NAV_STATES, NAV_STATES)``, ``q_kv (KV_STATES, KV_STATES)``,
#: ``q_ring (N_RING, N_RING)`` (1/ms, from state i to j) and ``ring_a (N_RING, N_RING)`` (the
#: pumps' implicit step); ``pop (N_RING,)`` int64 counts and ``delta (N_RING,)`` int64 for
#: one population step; ``count (N_COUNT,)`` int64; ``pop_rate (N_RATE,)`` the population's
#: pump rates.
Scratch = namedtuple("Scratch", "prop_ion prop_pump prop_count rate ch_pass ch_part hh q_nav "
                     "q_kv q_ring ring_a pop delta count pop_rate")
