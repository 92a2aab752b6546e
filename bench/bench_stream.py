"""Waveform stream: throughput against the need (4 channels at 50 kHz), and losses over time."""

from __future__ import annotations

import os
import time

import serial

from bench.figure import Figure
from controller.weld.simstation import Endpoints
from controller.weld.simstation import sim_station as station
from drivers.stream import WaveformStream
from drivers.wire.frames import SAMPLE_RATE_HZ

NEED = 4 * SAMPLE_RATE_HZ  # channel-samples per second the monitor needs
SOAK_S = float(os.environ.get("MICROWELD_BENCH_STREAM_S", "60"))


def _open(ends: Endpoints) -> WaveformStream:
    host, port = ends.stream_tcp
    return WaveformStream(serial.serial_for_url(f"socket://{host}:{port}", timeout=0.05))


def _lockstep_rate(seconds: float = 5.0) -> float:
    # Lockstep runs as fast as the client takes blocks: physics, noise, framing, TCP, decoding.
    with station("--clock", "lockstep", "--no-rtu") as ends:
        stream = _open(ends)
        stream.grant(64)
        granted = 64
        samples = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            frames = stream.read(0.5)
            got = sum(1 for f in frames if f.summary is None)
            samples += sum(f.samples.shape[0] * f.samples.shape[1] for f in frames)
            granted -= got
            if granted < 32:
                stream.grant(64)
                granted += 64
        rate = samples / (time.perf_counter() - t0)
        stream.close()
    return rate


def _paced_soak(seconds: float) -> tuple[int, int, int, float]:
    with station("--clock", "paced", "--no-rtu") as ends:
        stream = _open(ends)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            stream.read(0.2)
        stats = stream.stats
        stream.close()
    return stats.frames, stats.lost_frames, stats.bad_frames, stats.samples / seconds


def run() -> list[Figure]:
    """Measure the lockstep throughput and soak the paced stream."""
    rate = _lockstep_rate()
    frames, lost, bad, paced_rate = _paced_soak(SOAK_S)
    return [
        Figure(
            "stream_lockstep_throughput",
            rate / NEED,
            "x the need of 4 ch at 50 kHz",
            "≥ 10",
            rate / NEED >= 10,
        ),
        Figure(
            "stream_paced_rate", paced_rate / SAMPLE_RATE_HZ, "x real time (samples/s / 50 kHz)"
        ),
        Figure(
            f"stream_paced_lost_frames_{SOAK_S:g}s",
            lost,
            f"frames lost of {frames}",
            "0",
            lost == 0,
        ),
        Figure(f"stream_paced_bad_frames_{SOAK_S:g}s", bad, "frames refused by CRC", "0", bad == 0),
    ]
