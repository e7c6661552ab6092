"""Servers a test starts for itself (redis-server, pgbouncer): a free port, and waiting for the
process to listen on it (the benchmarks' own helpers)."""

from __future__ import annotations

from bench.server import free_port, wait_until_listening

__all__ = ["free_port", "wait_until_listening"]
