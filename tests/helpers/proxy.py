"""A TCP proxy on loopback that can cut its connections with a real reset (tests only).

The station's own "reset" fault closes politely (a FIN). A peer that closes with SO_LINGER 0
sends an RST instead, and the client's next call fails with ConnectionResetError rather than
seeing the end of the stream: that is the case this proxy makes.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading


class ResetProxy:
    """Forward 127.0.0.1:port to a target; `reset()` cuts every connection with an RST.

    New connections are forwarded as before after a reset: the controller's safe commands,
    sent on a fresh connection, still reach the station.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.resets = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="reset-proxy", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.server.settimeout(0.05)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.05)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peer[s].sendall(data)
        except (OSError, ValueError):
            return  # reset, or closed by reset()
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def reset(self) -> None:
        """Cut every open connection: an RST to the client, a close to the target."""
        with self._lock:
            pairs, self.pairs = self.pairs, []
        for client, upstream in pairs:
            with contextlib.suppress(OSError):
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            with contextlib.suppress(OSError):
                upstream.close()
            self.resets += 1

    def close(self) -> None:
        """Stop forwarding and close everything."""
        self._stop.set()
        self.reset()
        self.server.close()
        self._thread.join(timeout=2.0)
