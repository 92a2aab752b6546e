"""The simulated bench's test panel, on its own loopback port: faults, inputs, ground truth.

Not part of any real station: tests, demos and process maps use it to do to the station what a
cut cable, an operator or a failing supply would do to a real one, and to read what really
happened (controller/weld/simstation.py's SimControl speaks it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from firmware_sim.faults import Faults
from firmware_sim.station import Station


class ControlPanel:
    """The simulated bench's test panel, on its own loopback port: one JSON object per line.

    {"op": "truth"} returns what really happened (fires, current, supply and head state);
    {"op": "faults", "set": {...}} changes fault settings (firmware_sim.faults.Faults) live;
    {"op": "inputs", "estop": true, "guard_open": false} presses buttons; {"op": "part",
    "index": n} puts part n (its drawn spread and noise) under the electrode at the next
    approach, so a sweep is the same whichever process welds which point; {"op": "outcome"}
    adds the last weld's ground truth ("outcome": joint strength, defect); {"op": "dress"}
    dresses the electrode (its tip wear starts again). Every reply carries "ok", and the truth
    after the change. Not part of any real station: tests, demos, maps.
    """

    def __init__(self, station: Station, on_faults: list[Callable[[], None]]) -> None:
        self.station = station
        self.on_faults = on_faults  # who else acts on a change (the RTU line's plug)

    def apply(self, request: dict[str, object]) -> dict[str, object]:
        """Carry out one request; return the reply."""
        op = request.get("op")
        st = self.station
        if op == "faults":
            changes = request.get("set", {})
            if not isinstance(changes, dict):
                raise ValueError('"set" must be an object of fault settings')
            trial = Faults.model_validate({**st.faults.model_dump(), **changes})
            for name in changes:
                setattr(st.faults, name, getattr(trial, name))
            st.faults_changed()
            for react in self.on_faults:
                react()
        elif op == "inputs":
            for name in request:
                if name not in ("op", "estop", "guard_open"):
                    raise ValueError(f"unknown input {name!r} (estop, guard_open)")
            estop, guard = request.get("estop"), request.get("guard_open")
            if not all(v is None or isinstance(v, bool) for v in (estop, guard)):
                raise ValueError("estop and guard_open take true or false")
            st.set_inputs(estop=estop, guard_open=guard)  # type: ignore[arg-type]
        elif op == "part":
            index = request.get("index")
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise ValueError('"index" must be a whole number >= 0')
            st.weld_index = index
        elif op == "outcome":
            return {"ok": True, **st.truth_now(), "outcome": st.outcome()}
        elif op == "dress":
            st.dress()
        elif op != "truth":
            raise ValueError(f"unknown op {op!r} (truth, faults, inputs, part, outcome, dress)")
        return {"ok": True, **st.truth_now()}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client: a reply line for each request line."""
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("a request is a JSON object")
                    reply = self.apply(request)
                except (ValueError, TypeError) as exc:  # pydantic's ValidationError included
                    reply = {"ok": False, "error": str(exc)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
