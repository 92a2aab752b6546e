"""Waveform stream frames: byte-exact encoding, CRC, resynchronisation, loss counting."""

from __future__ import annotations

import random
import zlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.wire.frames import MAX_FRAME, StreamDecoder, Summary, encode_samples, encode_summary

SCALES = np.array([0.1, 0.001, 0.01, 0.1])  # A, V, N, µm per LSB


def _frames(count: int, n: int = 50, seed: int = 0) -> tuple[list[bytes], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    blobs, values = [], []
    for k in range(count):
        v = rng.normal(0.0, 1.0, (n, 4)) * np.array([300.0, 2.0, 10.0, 100.0])
        blobs.append(encode_samples(k, k * n, v, SCALES))
        values.append(v)
    return blobs, values


def test_crc_is_ieee_crc32() -> None:
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the standard check value


def test_samples_frame_is_byte_exact() -> None:
    frame = encode_samples(7, 100, np.array([[1.0, -2.0]]), np.array([0.5, 0.25]))
    expected = bytes.fromhex(
        "4d57"  # magic "MW"
        "01"  # version
        "00"  # kind: samples
        "07000000"  # seq 7
        "6400000000000000"  # first sample 100
        "0100"  # 1 sample
        "02"  # 2 channels
        "00"  # flags
        "5b7d"  # header check
        "0000003f"
        "0000803e"  # scales 0.5, 0.25 (float32)
        "0200"
        "f8ff"  # raw 2, -8
        "c1a0a464"  # CRC-32
    )
    assert frame == expected
    assert int.from_bytes(frame[-4:], "little") == zlib.crc32(frame[:-4])


def test_summary_frame_is_byte_exact_and_decodes() -> None:
    summary = Summary(42, 0x21, 612.5, 10.375, 25.0, 1250)
    frame = encode_summary(8, 150, summary)
    assert frame.hex() == (
        "4d5701010800000096000000000000000000000"
        "04ea42a0000002100000000201944000026410000c841"
        "e2040000000000009fa1ad51"
    )
    (out,) = StreamDecoder().feed(frame)
    assert out.summary == summary and out.seq == 8 and out.first_sample == 150


def test_round_trip_within_half_a_step() -> None:
    blobs, values = _frames(3)
    dec = StreamDecoder()
    out = dec.feed(b"".join(blobs))
    assert [f.seq for f in out] == [0, 1, 2]
    for frame, v in zip(out, values, strict=True):
        assert np.all(np.abs(frame.samples - v) <= SCALES * 0.5 + 1e-12)
    assert dec.stats.frames == 3 and dec.stats.bad_frames == 0 and dec.stats.samples == 150


def test_saturation_is_flagged_not_hidden() -> None:
    frame = encode_samples(0, 0, np.array([[1e6, 0.0, 0.0, 0.0]]), SCALES)
    (out,) = StreamDecoder().feed(frame)
    assert out.saturated and out.clipped == (0,)  # the current, not the others
    assert out.samples[0, 0] == float(np.float32(0.1)) * 32767.0  # full scale (f32 scale)


def test_a_negative_rail_is_clipped_too_and_a_clean_frame_names_none() -> None:
    clipped = encode_samples(0, 0, np.array([[0.0, -1e3, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]), SCALES)
    clean = encode_samples(1, 2, np.array([[1.0, 1e-3, 1.0, 10.0]]), SCALES)
    a, b = StreamDecoder().feed(clipped + clean)
    assert (a.saturated, a.clipped) == (True, (1,))
    assert (b.saturated, b.clipped) == (False, ())


def test_byte_by_byte_feeding_gives_the_same_frames() -> None:
    blobs, _ = _frames(4)
    whole = StreamDecoder().feed(b"".join(blobs))
    dec = StreamDecoder()
    parts = []
    for byte in b"".join(blobs):
        parts += dec.feed(bytes([byte]))
    assert [f.seq for f in parts] == [f.seq for f in whole]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(parts, whole, strict=True))


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    blobs, _ = _frames(5)
    rng = random.Random(1)
    garbage = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in blobs]
    # a false magic with an implausible header inside the garbage
    garbage[2] = b"MW\x01\x00" + bytes(40) + garbage[2]
    stream = b"".join(g + b for g, b in zip(garbage, blobs, strict=True))
    dec = StreamDecoder()
    out = dec.feed(stream)
    assert [f.seq for f in out] == [0, 1, 2, 3, 4]
    assert dec.stats.skipped_bytes >= sum(len(g) for g in garbage) - 2
    assert dec.stats.lost_frames == 0


def test_a_corrupt_frame_is_refused_and_its_loss_counted() -> None:
    blobs, values = _frames(3)
    bad = bytearray(blobs[1])
    bad[40] ^= 0x10  # one bit flipped in the samples
    dec = StreamDecoder()
    out = dec.feed(blobs[0] + bytes(bad) + blobs[2])
    assert [f.seq for f in out] == [0, 2]
    assert dec.stats.bad_frames >= 1 and dec.stats.lost_frames == 1
    # what was handed on is exactly what was sent: no corrupt sample
    assert np.all(np.abs(out[1].samples - values[2]) <= SCALES * 0.5 + 1e-12)


def test_a_false_magic_does_not_stall_the_decoder() -> None:
    # "MW" followed by a header claiming a large frame: the header check refuses it at once.
    dec = StreamDecoder()
    blobs, _ = _frames(1)
    fake = b"MW\x01\x00" + (5).to_bytes(4, "little") + bytes(8) + (4000).to_bytes(2, "little")
    out = dec.feed(fake + b"\x08\x00\x00\x00" + blobs[0])
    assert [f.seq for f in out] == [0]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=5000), st.integers(0, 4))
def test_random_bytes_never_raise_and_the_buffer_stays_bounded(junk: bytes, where: int) -> None:
    blobs, _ = _frames(4, n=20)
    stream = b"".join(blobs[:where]) + junk + b"".join(blobs[where:])
    dec = StreamDecoder()
    out = []
    for k in range(0, len(stream), 97):
        out += dec.feed(stream[k : k + 97])
        assert len(dec._buf) <= MAX_FRAME
    # junk between whole frames costs no frame: the header check refuses false magics
    assert [f.seq for f in out] == [0, 1, 2, 3]


def test_the_stream_driver_runs_on_loop_url() -> None:
    import serial

    from drivers.stream import WaveformStream

    port = serial.serial_for_url("loop://", timeout=0.1)
    stream = WaveformStream(port)
    blobs, _ = _frames(3)
    port.write(b"junk" + b"".join(blobs))
    frames = []
    while len(frames) < 3:
        got = stream.read(1.0)
        assert got, "frames written to loop:// come back"
        frames += got
    assert [f.seq for f in frames] == [0, 1, 2]
    assert stream.stats.skipped_bytes == 4
    stream.close()
