"""The wire formats, apart from any client: the register maps, the Modbus frames and their CRC,
the waveform stream's frames. Both the drivers and the simulated station read these."""
