"""firmware_sim/lease.py: who holds a device, what the others may still write, when it lapses."""

from __future__ import annotations

from firmware_sim.lease import ANOTHERS, FREE, SAFE_COMMANDS, YOURS, Lease

LAPSE_S = 0.5
A, B = 1, 2  # two masters (connections)


def test_a_free_lease_lets_everyone_write_and_is_taken_by_a_token() -> None:
    lease = Lease()
    assert lease.allows(B, "hold_ms", 0.0, LAPSE_S)
    assert lease.take(A, 0xBEEF, 0.0, LAPSE_S)
    assert lease.state(A, 0.1, LAPSE_S) == YOURS
    assert lease.state(B, 0.1, LAPSE_S) == ANOTHERS


def test_while_held_another_master_may_only_make_the_device_safer() -> None:
    lease = Lease()
    lease.take(A, 7, 0.0, LAPSE_S)
    assert lease.allows(A, "hold_ms", 0.1, LAPSE_S)
    for register in ("hold_ms", "watchdog_ms", "heartbeat", "arm", "fire", "approach", "reset"):
        assert not lease.allows(B, register, 0.1, LAPSE_S), register
    for register in SAFE_COMMANDS:
        assert lease.allows(B, register, 0.1, LAPSE_S), register
    assert not lease.take(B, 8, 0.1, LAPSE_S)  # another token
    assert not lease.take(B, 0, 0.1, LAPSE_S)  # nor can it give the holder's lease up
    assert lease.state(A, 0.1, LAPSE_S) == YOURS


def test_the_holders_token_moves_the_lease_to_its_new_connection() -> None:
    lease = Lease()
    lease.take(A, 7, 0.0, LAPSE_S)
    assert lease.take(B, 7, 0.1, LAPSE_S)  # the same controller, reconnected
    assert lease.state(B, 0.1, LAPSE_S) == YOURS
    assert not lease.allows(A, "hold_ms", 0.1, LAPSE_S)


def test_it_lapses_after_the_watchdog_time_of_the_holders_silence() -> None:
    lease = Lease()
    lease.take(A, 7, 0.0, LAPSE_S)
    lease.wrote(A, 0.4)  # a heartbeat renews it
    lease.wrote(B, 0.8)  # another master's (safe) write does not
    assert lease.state(B, 0.9, LAPSE_S) == ANOTHERS
    assert lease.state(B, 0.91, LAPSE_S) == FREE
    assert lease.take(B, 9, 0.91, LAPSE_S)


def test_it_ends_with_its_holders_connection_or_its_zero() -> None:
    lease = Lease()
    lease.take(A, 7, 0.0, LAPSE_S)
    lease.dropped(B)
    assert lease.state(B, 0.1, LAPSE_S) == ANOTHERS
    lease.dropped(A)
    assert lease.state(B, 0.1, LAPSE_S) == FREE
    lease.take(A, 7, 0.2, LAPSE_S)
    assert lease.take(A, 0, 0.3, LAPSE_S)
    assert lease.state(B, 0.3, LAPSE_S) == FREE
