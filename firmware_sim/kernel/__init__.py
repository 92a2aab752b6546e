"""Numba kernel of the simulated weld: supply circuit, thermal nodes, enamel, mechanics, head.

One explicit step is about 1 µs; `advance` runs whole blocks of output samples so that no Python
runs per step. Parameters and state are flat float64 vectors (their slots are declared in
`layout`) so the kernel compiles once with a fixed signature, can be cached, and its state can be
carried between blocks, copied and compared bit for bit.

By subsystem: `layout` (the vectors' slots and the codes), `common` (what all parts use),
`supply` (CD circuit and inverter), `feedback` (the inverter's PI loop), `thermo`
(thermocompression), `direct` (direct welding), `head` (the servo head) and `weld`, the entry
that puts them together in `advance`.
"""

from firmware_sim.kernel.common import flow_stress_pa as flow_stress_pa
from firmware_sim.kernel.common import stadium_width_m as stadium_width_m

# Every slot and code is public: naming them all again here would be a second table to keep.
from firmware_sim.kernel.layout import *  # noqa: F403
from firmware_sim.kernel.weld import advance as advance
from firmware_sim.kernel.weld import derive as derive
from firmware_sim.kernel.weld import fire as fire
from firmware_sim.kernel.weld import init_state as init_state
from firmware_sim.kernel.weld import load_resistance_ohm as load_resistance_ohm
from firmware_sim.kernel.weld import part_top_m as part_top_m
