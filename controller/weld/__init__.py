"""The weld: the sequencer, the cycle that runs it on a bench, the station's session, the station
configs and the embedded simulated station's process."""
