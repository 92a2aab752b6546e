"""The master's bytes on the wire (pymodbus, behind drivers/link.py) are the codec's, byte for
byte, over TCP and over RTU on a pty: the station answers with the codec, so the two must agree."""

from __future__ import annotations

import os
import socket
import threading
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from drivers.link import ModbusLink, rtu_link, tcp_link
from drivers.supply import CDSupply
from drivers.wire.modbus import (
    mbap_adu,
    read_request_pdu,
    read_response_pdu,
    rtu_adu,
    write_multiple_pdu,
    write_multiple_response_pdu,
    write_single_pdu,
)

Answer = Callable[[bytes], bytes]  # request PDU -> reply PDU

# each exchange: what the master is asked to do, the request PDU it must send, and the reply
EXCHANGES: list[tuple[Callable[[ModbusLink], object], bytes, bytes]] = [
    (lambda link: link.read(1, 2, 2), read_request_pdu(2, 2), read_response_pdu([0x0001, 0x1170])),
    (lambda link: link.write(1, 31, [1]), write_single_pdu(31, 1), write_single_pdu(31, 1)),
    (
        lambda link: link.write(2, 40, [0x0001, 0x86A0]),
        write_multiple_pdu(40, [0x0001, 0x86A0]),
        write_multiple_response_pdu(40, 2),
    ),
    (  # a driver taking its device's lease: the token into `lease` (6 and 7), high word first
        lambda link: CDSupply(link, 1).take(0x12345678),
        bytes.fromhex("10 0006 0002 04 1234 5678"),
        write_multiple_response_pdu(6, 2),
    ),
]
UNITS = (1, 1, 2, 1)


def _exactly(conn: socket.socket, n: int) -> bytes:
    got = b""
    while len(got) < n:
        more = conn.recv(n - len(got))
        if not more:
            raise ConnectionError("the master closed the connection")
        got += more
    return got


@contextmanager
def _tcp_device(heard: list[bytes]) -> Iterator[tuple[str, int]]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            for _, _, reply in EXCHANGES:
                head = _exactly(conn, 7)
                body = _exactly(conn, int.from_bytes(head[4:6], "big") - 1)
                heard.append(head + body)
                conn.sendall(mbap_adu(int.from_bytes(head[:2], "big"), head[6], reply))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[:2]
    finally:
        thread.join(5.0)
        server.close()


def test_tcp_requests_are_the_codecs_frames() -> None:
    heard: list[bytes] = []
    with _tcp_device(heard) as (host, port):
        link = tcp_link(host, port, timeout_s=2.0)
        for do, _, _ in EXCHANGES:
            do(link)
        link.close()
    assert len(heard) == len(EXCHANGES)
    for frame, (_, pdu, _), unit in zip(heard, EXCHANGES, UNITS, strict=True):
        tid = int.from_bytes(frame[:2], "big")
        assert frame == mbap_adu(tid, unit, pdu)


def test_rtu_requests_are_the_codecs_frames() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    heard: list[bytes] = []

    def serve() -> None:
        for (_, pdu, reply), unit in zip(EXCHANGES, UNITS, strict=True):
            want = len(rtu_adu(unit, pdu))
            got = b""
            while len(got) < want:
                got += os.read(master, want - len(got))
            heard.append(got)
            os.write(master, rtu_adu(unit, reply))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    link = rtu_link(os.ttyname(slave), timeout_s=2.0)
    try:
        for do, _, _ in EXCHANGES:
            do(link)
    finally:
        link.close()
        thread.join(5.0)
        os.close(master)
        os.close(slave)
    expected = [rtu_adu(unit, pdu) for (_, pdu, _), unit in zip(EXCHANGES, UNITS, strict=True)]
    assert heard == expected
