"""A station's run of parts: each weld a new part from the variation file, the tip's wear and
heat carried from one weld to the next (the simulated station and the stand-alone population
make their welds alike here).
"""

from __future__ import annotations

from drivers.config.materials import Materials, load_materials
from drivers.config.schedule import Schedule
from drivers.config.variation import Variation, load_variation
from firmware_sim.model import Weld, prepare
from firmware_sim.run import Result, run
from firmware_sim.spread import carry_tip_heat

SEED_STRIDE = 1_000_003  # a station's weld k has seed station_seed * SEED_STRIDE + k


def next_weld(
    schedule: Schedule,
    seed: int,
    index: int,
    materials: Materials,
    variation: Variation,
    last: Weld | None = None,
    welds_since_dressing: int | None = None,
) -> Weld:
    """Prepare a station's weld number `index`: its part from the station seed and the index,
    the tip worn by welds_since_dressing welds (None: the schedule's wear state), and the heat
    the last weld left in the tip, cooled over the idle the production rate leaves."""
    if welds_since_dressing is not None:
        # a copy of the noise block, not a validated schedule: this runs at every approach
        noise = schedule.noise.model_copy(update={"welds_since_dressing": welds_since_dressing})
        schedule = schedule.model_copy(update={"noise": noise})
    weld = prepare(schedule, seed * SEED_STRIDE + index, materials, variation)
    if last is not None and variation.on("tip_heat"):
        rate = variation.tip_heat.production_rate_per_min
        carry_tip_heat(last.state, weld.params, weld.state, rate)
    return weld


def weld_population(
    schedule: Schedule,
    count: int,
    seed: int = 0,
    materials: Materials | None = None,
    variation: Variation | None = None,
    wear: bool = True,
) -> list[Result]:
    """Weld `count` parts one after the other as the station does (stand-alone, each weld's
    whole sequence): the tip wears weld by weld (wear) and carries its heat to the next."""
    mats = materials or load_materials()
    var = variation or load_variation(materials=mats)
    worn = schedule.noise.welds_since_dressing
    results: list[Result] = []
    last: Weld | None = None
    for k in range(count):
        weld = next_weld(schedule, seed, k, mats, var, last, worn + k if wear else None)
        results.append(run(weld))
        last = weld
    return results
