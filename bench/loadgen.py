"""The load generator, run as `python -m bench.loadgen` by `bench.load`: a small HTTP/1.1 keep-alive
client on raw asyncio streams (no dependency, works everywhere). It reads a JSON job on stdin and
writes a JSON result on stdout. Only the standard library is imported here, so it starts fast and
never imports Django."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import re
import sys
import time
from collections import Counter, deque
from urllib.parse import urlsplit


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class _Tally:
    def __init__(self, ok_statuses: list[int] | None) -> None:
        self.ok_statuses = set(ok_statuses) if ok_statuses is not None else None
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.error_kinds: Counter[str] = Counter()
        self.started = 0

    def is_ok(self, status: int) -> bool:
        if self.ok_statuses is not None:
            return status in self.ok_statuses
        return 200 <= status < 400


async def _read_response(
    reader: asyncio.StreamReader, method: str, into: dict | None = None
) -> tuple[int, bool]:
    """Read one response; return its status and whether the connection can be reused. With
    `into`, its headers are put there too (lower-case names)."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status_text, *_ = lines[0].split(" ", 2) + [""]
        status = int(status_text)
        if status >= 200 or status == 101:
            break
        # 1xx informational: the real response follows.
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if into is not None:
        into.update(headers)
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if method == "HEAD" or status in (204, 304):
        pass
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                # Skip the trailers up to the empty line.
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    continue
                break
            await reader.readexactly(size + 2)
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()  # the body ends when the server closes the connection
        keep_alive = False
    return status, keep_alive


class _Bodies:
    """The request bodies of a job, handed out once each across its phases."""

    def __init__(self, bodies: list[str] | None) -> None:
        self.bodies = [body.encode("latin-1") for body in bodies] if bodies is not None else None
        self.next = 0

    def take(self) -> bytes | None:
        """The next body; b"" for a job without bodies; None when they have run out."""
        if self.bodies is None:
            return b""
        if self.next >= len(self.bodies):
            return None
        self.next += 1
        return self.bodies[self.next - 1]


async def _phase(
    job: dict, seconds: float, max_requests: int, tally: _Tally, bodies: _Bodies
) -> float:
    parts = urlsplit(job["url"])
    host, port = parts.hostname, parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    method = job["method"].upper()
    header_lines = "".join(f"{k}: {v}\r\n" for k, v in job["headers"].items())
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"User-Agent: cdm-bench\r\nAccept: */*\r\nConnection: keep-alive\r\n{header_lines}"
    ).encode("latin-1")
    with_bodies = bodies.bodies is not None
    timeout = job["timeout"]
    loop = asyncio.get_running_loop()
    begin = loop.time()
    stop_at = begin + seconds
    issued = 0

    async def connection() -> None:
        nonlocal issued
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while loop.time() < stop_at and issued < max_requests:
                body = bodies.take()
                if body is None:
                    break
                issued += 1
                if with_bodies:
                    request = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
                else:
                    request = head + b"\r\n"
                started = time.perf_counter()
                try:
                    if writer is None:
                        reader, writer = await asyncio.wait_for(
                            asyncio.open_connection(host, port), timeout
                        )
                    writer.write(request)
                    status, keep_alive = await asyncio.wait_for(
                        _read_response(reader, method), timeout
                    )
                except (
                    OSError,
                    TimeoutError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    ValueError,
                ) as exc:
                    tally.error_kinds[type(exc).__name__] += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    continue
                tally.latencies.append(time.perf_counter() - started)
                tally.statuses[status] += 1
                if not keep_alive:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    await asyncio.gather(*(connection() for _ in range(job["concurrency"])))
    return loop.time() - begin


async def _run_job(job: dict) -> dict:
    bodies = _Bodies(job.get("bodies"))
    warmup = _Tally(job["ok_statuses"])
    if job["warmup"] > 0:
        await _phase(job, job["warmup"], job["max_requests"], warmup, bodies)
    tally = _Tally(job["ok_statuses"])
    elapsed = await _phase(job, job["seconds"], job["max_requests"], tally, bodies)
    latencies = sorted(tally.latencies)
    bad_statuses = sum(n for status, n in tally.statuses.items() if not tally.is_ok(status))
    good = len(latencies) - bad_statuses
    return {
        "url": job["url"],
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": good / elapsed if elapsed > 0 else 0.0,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "errors": bad_statuses + sum(tally.error_kinds.values()),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "error_kinds": dict(tally.error_kinds),
        "warmup_statuses": {str(k): v for k, v in sorted(warmup.statuses.items())},
        "warmup_errors": sum(warmup.error_kinds.values()),
    }


def _request(host: str, port: int, method: str, path: str, body: str, headers: dict) -> bytes:
    """One keep-alive request with its body (latin-1: each character one byte)."""
    header_lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    payload = body.encode("latin-1")
    return (
        f"{method.upper()} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"User-Agent: cdm-bench\r\nAccept: */*\r\nConnection: keep-alive\r\n"
        f"{header_lines}Content-Length: {len(payload)}\r\n\r\n"
    ).encode("latin-1") + payload


async def _cycles_phase(
    job: dict, seconds: float, tally: _Tally, stopped: set[int], shown: list[dict]
) -> float:
    parts = urlsplit(job["url"])
    host, port = parts.hostname, parts.port or 80
    timeout = job["timeout"]
    loop = asyncio.get_running_loop()
    begin = loop.time()
    stop_at = begin + seconds

    async def client(index: int, headers: dict) -> None:
        # What the client's page shows (e.g. the visit its desk holds), read from each answer's
        # Location fragment (`#visit-12`) and put into the bodies' `{visit}`, as a page's form
        # carries it.
        # (Kept from one phase to the next: the warm-up moves the desks on.)
        page = shown[index]
        reader = writer = None
        try:
            while loop.time() < stop_at and index not in stopped:
                started = time.perf_counter()
                for m, p, b in job["steps"]:
                    method, raw = m.upper(), _request(host, port, m, p, b.format(**page), headers)
                    answer: dict[str, str] = {}
                    try:
                        if writer is None:
                            reader, writer = await asyncio.wait_for(
                                asyncio.open_connection(host, port), timeout
                            )
                        writer.write(raw)
                        status, keep_alive = await asyncio.wait_for(
                            _read_response(reader, method, answer), timeout
                        )
                        name, _sep, value = (
                            answer.get("location", "").partition("#")[2].partition("-")
                        )
                        if value:
                            page[name] = value
                    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                        tally.error_kinds[type(exc).__name__] += 1
                        stopped.add(index)
                        return
                    tally.statuses[status] += 1
                    if not keep_alive:
                        writer.close()
                        reader = writer = None
                    if not tally.is_ok(status):
                        stopped.add(index)
                        return
                tally.latencies.append(time.perf_counter() - started)
        finally:
            if writer is not None:
                writer.close()

    await asyncio.gather(*(client(i, h) for i, h in enumerate(job["clients"])))
    return loop.time() - begin


async def _run_cycles(job: dict) -> dict:
    stopped: set[int] = set()
    shown = [dict(page) for page in job.get("shown") or [{} for _client in job["clients"]]]
    warmup = _Tally(job["ok_statuses"])
    if job["warmup"] > 0:
        await _cycles_phase(job, job["warmup"], warmup, stopped, shown)
    tally = _Tally(job["ok_statuses"])
    elapsed = await _cycles_phase(job, job["seconds"], tally, stopped, shown)
    latencies = sorted(tally.latencies)
    bad_statuses = sum(n for status, n in tally.statuses.items() if not tally.is_ok(status))
    bad_warmup = sum(n for status, n in warmup.statuses.items() if not warmup.is_ok(status))
    return {
        "url": job["url"],
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "errors": bad_statuses + sum(tally.error_kinds.values()),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "error_kinds": dict(tally.error_kinds),
        "warmup_statuses": {str(k): v for k, v in sorted(warmup.statuses.items())},
        "warmup_errors": bad_warmup + sum(warmup.error_kinds.values()),
    }


# --- a day: a mix of actions in set proportions, and devices polling at their pace ----------------


class _Phases:
    """One tally per action (or poll) for the warm-up and one for the measure: an action belongs
    to the phase it started in."""

    def __init__(self, names: list[str], ok: dict[str, list[int] | None], measure_from: float):
        self.warmup = {name: _Tally(ok[name]) for name in names}
        self.measure = {name: _Tally(ok[name]) for name in names}
        self.measure_from = measure_from
        self.requests = 0  # HTTP requests answered in the measure phase, all kinds

    def of(self, started: float) -> dict[str, _Tally]:
        return self.measure if started >= self.measure_from else self.warmup


_HX_GET = re.compile(rb'hx-get="([^"]*)"')


async def _exchange(
    conn: dict, host: str, port: int, raw: bytes, method: str, timeout: float, body: bool
) -> tuple[int, dict, bytes]:
    """Send one request on `conn`'s connection (opened on first use, dropped when the server
    closes it); return its status, headers and (with `body`) its body."""
    if conn.get("writer") is None:
        conn["reader"], conn["writer"] = await asyncio.wait_for(
            asyncio.open_connection(host, port), timeout
        )
    conn["writer"].write(raw)
    headers: dict[str, str] = {}
    reader = conn["reader"]
    if body:
        status, keep_alive, content = await asyncio.wait_for(
            _read_with_body(reader, method, headers), timeout
        )
    else:
        status, keep_alive = await asyncio.wait_for(
            _read_response(reader, method, headers), timeout
        )
        content = b""
    if not keep_alive:
        conn["writer"].close()
        conn["writer"] = conn["reader"] = None
    return status, headers, content


async def _read_with_body(
    reader: asyncio.StreamReader, method: str, into: dict
) -> tuple[int, bool, bytes]:
    """As `_read_response`, keeping the body (Content-Length bodies only: what Django sends)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status_text, *_ = lines[0].split(" ", 2) + [""]
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            into[name.strip().lower()] = value.strip()
    status = int(status_text)
    keep_alive = version == "HTTP/1.1" and into.get("connection", "").lower() != "close"
    content = b""
    if method != "HEAD" and status not in (204, 304):
        if "content-length" in into:
            content = await reader.readexactly(int(into["content-length"]))
        else:
            content = await reader.read()
            keep_alive = False
    return status, keep_alive, content


def _drop(conn: dict) -> None:
    if conn.get("writer") is not None:
        conn["writer"].close()
    conn["writer"] = conn["reader"] = None


async def _run_day(job: dict) -> dict:
    """`connections` clients pick, one action after the other, the action furthest behind its
    share (among those with a free identity: a desk, a tablet, an event…) and play its steps with
    that identity; meanwhile every polling device asks for its path every `interval` seconds, and
    follows the `hx-get` of each answer with a body (as htmx does), stopping when there is none.
    Actions still running at the end are finished, not cut, so the database can be checked."""
    parts = urlsplit(job["url"])
    host, port = parts.hostname, parts.port or 80
    timeout = job["timeout"]
    loop = asyncio.get_running_loop()
    actions = {a["name"]: a for a in job["actions"]}
    polls = {p["name"]: p for p in job["polls"]}
    ok = {name: spec.get("ok") for name, spec in {**actions, **polls}.items()}
    begin = loop.time()
    phases = _Phases(list(ok), ok, begin + job["warmup"])
    stop_at = phases.measure_from + job["seconds"]
    shares = {name: a["share"] for name, a in actions.items()}
    total_share = sum(shares.values())
    # First in, first out: every identity takes its turn (each desk, each site's tablet).
    pools = {name: deque(dict(identity) for identity in a["pool"]) for name, a in actions.items()}
    started = dict.fromkeys(actions, 0)
    broken: dict[str, int] = dict.fromkeys(actions, 0)
    counter = itertools.count(1)
    served_by: Counter[str] = Counter()

    def pick() -> str | None:
        """The free action furthest behind its share; None (wait) rather than one ahead of it."""
        done = sum(started.values()) + 1
        behind = {name: shares[name] / total_share * done - started[name] for name in actions}
        free = [name for name in actions if pools[name] and behind[name] > -1]
        return max(free, key=behind.__getitem__) if free else None

    async def client() -> None:
        conn: dict = {}
        try:
            while loop.time() < stop_at:
                name = pick()
                if name is None:
                    await asyncio.sleep(0.001)  # every identity busy: yield to the others
                    continue
                identity = pools[name].popleft()
                started[name] += 1
                began = loop.time()
                tally = phases.of(began)[name]
                fine = True
                for m, p, b in actions[name]["steps"]:
                    values = {**identity.get("shown", {}), "n": next(counter)}
                    raw = _request(
                        host, port, m, p.format(**values), b.format(**values), identity["headers"]
                    )
                    try:
                        status, headers, _ = await _exchange(
                            conn, host, port, raw, m.upper(), timeout, False
                        )
                    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                        tally.error_kinds[type(exc).__name__] += 1
                        _drop(conn)
                        fine = False
                        break
                    tally.statuses[status] += 1
                    served_by[headers.get("x-served-by", "-")] += 1
                    if began >= phases.measure_from:
                        phases.requests += 1
                    name_, _sep, value = (
                        headers.get("location", "").partition("#")[2].partition("-")
                    )
                    if value:
                        identity.setdefault("shown", {})[name_] = value
                    if not tally.is_ok(status):
                        fine = False
                        break
                if fine:
                    tally.latencies.append(loop.time() - began)
                    pools[name].append(identity)
                else:
                    broken[name] += 1  # its state is no longer known: it plays no more
        finally:
            _drop(conn)

    async def device(name: str, path: str, headers: dict, offset: float) -> None:
        interval = polls[name]["interval"]
        conn: dict = {}
        try:
            await asyncio.sleep(offset)
            while loop.time() < stop_at:
                began = loop.time()
                tally = phases.of(began)[name]
                raw = _request(host, port, "GET", path, "", headers)
                try:
                    status, answer, content = await _exchange(
                        conn, host, port, raw, "GET", timeout, True
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    tally.error_kinds[type(exc).__name__] += 1
                    _drop(conn)
                    return
                tally.statuses[status] += 1
                served_by[answer.get("x-served-by", "-")] += 1
                if began >= phases.measure_from:
                    phases.requests += 1
                tally.latencies.append(loop.time() - began)
                if not tally.is_ok(status):
                    return
                if content:
                    found = _HX_GET.search(content)
                    if found is None:
                        return  # the page polls no more (the visit is over)
                    path = html.unescape(found.group(1).decode("latin-1"))
                await asyncio.sleep(max(0.0, began + interval - loop.time()))
        finally:
            _drop(conn)

    devices = [
        device(name, d["path"], d.get("headers", {}), spec["interval"] * i / len(spec["devices"]))
        for name, spec in polls.items()
        for i, d in enumerate(spec["devices"])
    ]
    await asyncio.gather(*(client() for _ in range(job["connections"])), *devices)
    elapsed = job["seconds"]

    def summary(tally: _Tally, seconds: float) -> dict:
        latencies = sorted(tally.latencies)
        bad = sum(n for status, n in tally.statuses.items() if not tally.is_ok(status))
        return {
            "done": len(latencies),
            "per_s": len(latencies) / seconds if seconds > 0 else 0.0,
            "p50_ms": _percentile(latencies, 0.50) * 1000,
            "p95_ms": _percentile(latencies, 0.95) * 1000,
            "errors": bad + sum(tally.error_kinds.values()),
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "error_kinds": dict(tally.error_kinds),
        }

    return {
        "seconds": elapsed,
        "rps": phases.requests / elapsed,
        "measure": {name: summary(t, elapsed) for name, t in phases.measure.items()},
        "warmup": {name: summary(t, job["warmup"]) for name, t in phases.warmup.items()},
        "broken": broken,
        "served_by": dict(served_by),
    }


def _load_main() -> None:
    job = json.loads(sys.stdin.read())
    run = {"cycles": _run_cycles, "day": _run_day}.get(job.get("kind"), _run_job)
    result = asyncio.run(run(job))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    _load_main()
