"""Servers a test starts for itself (redis-server, pgbouncer): a free port, and waiting for the
process to listen on it."""

from __future__ import annotations

import socket
import subprocess
import time

from bench.server import free_port

__all__ = ["free_port", "wait_until_listening"]


def wait_until_listening(process: subprocess.Popen, port: int, what: str) -> None:
    """Return once `process` accepts connections on 127.0.0.1:`port` (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert process.poll() is None, f"{what} stopped at its start"
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.05)  # waiting for a process to listen, not standing in for a result
