"""What every benchmark needs: a real gunicorn, a load generator in another process, one line out.

- `serve()` starts gunicorn as in production (sync workers, one per core, DEBUG off, static files
  collected, whitenoise) on a free loopback port, with the settings of `bench.settings`, and stops
  its whole process group on exit.
- `measure_rate(url)` loads one URL from a second process with a small HTTP/1.1 keep-alive client
  on raw asyncio streams (no dependency, works everywhere), bounded in time and in requests; a
  `body_factory` gives each request its own body (e.g. a form with a fresh idempotency key).
- `report(...)` prints the one `BENCH <name> … ratio=<x> target=<y> PASS|FAIL` line.

Only the standard library is imported here, so the load generator starts fast and never imports
Django: `python -m bench.harness` reads a JSON job on stdin and writes a JSON result on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import importlib.metadata
import importlib.util
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_MODULE = "bench.settings"
WSGI_APP = "citedesmetiers.wsgi:application"
LOOPBACK = "127.0.0.1"

# One key per bench run, shared by this process and the servers it starts (so a benchmark can make
# a session or a signed value with the ORM and send it to the server).
_SECRET_KEY = "bench-" + secrets.token_urlsafe(64)
_collected_static = False
T = TypeVar("T")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def bench_environ() -> dict[str, str]:
    """The variables that make the settings a production-like server on loopback, over HTTP."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DEBUG": "false",
        "SECRET_KEY": _SECRET_KEY,
        "ALLOWED_HOSTS": LOOPBACK,
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
    }


def _server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # DATABASE_URL, REDIS_URL, CELERY_BROKER_URL… come from the caller's environment.
    return {**os.environ, **bench_environ(), "PYTHONUNBUFFERED": "1", **(extra or {})}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def collectstatic(env: Mapping[str, str] | None = None) -> None:
    """`collectstatic --noinput`, once per process: the manifest storage needs it with DEBUG off."""
    global _collected_static
    if _collected_static:
        return
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=dict(env) if env is not None else _server_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"collectstatic failed:\n{result.stdout}{result.stderr}")
    _collected_static = True


def _gunicorn_command() -> list[str]:
    if importlib.util.find_spec("gunicorn") is not None:
        command = [sys.executable, "-m", "gunicorn"]
    else:
        command = [str(ROOT / ".venv" / "bin" / "gunicorn")]
    try:
        version = tuple(int(p) for p in importlib.metadata.version("gunicorn").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        version = (0, 0)
    if version >= (25, 1):
        # Otherwise every instance shares ~/.gunicorn/gunicorn.ctl with any other gunicorn here.
        command.append("--no-control-socket")
    return command


@dataclass
class Server:
    port: int
    workers: int
    pid: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def serve(
    port: int | None = None,
    *,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
    startup_timeout: float = 30.0,
    unhealthy_timeout: float = 5.0,
) -> Iterator[Server]:
    """Run gunicorn on 127.0.0.1:`port` (a free one by default) until the block ends.

    Waits until `/healthz` answers 200: at most `startup_timeout` seconds for a first answer, then
    `unhealthy_timeout` seconds for a 503 (database or broker down) to turn into a 200.
    """
    port = port or free_port()
    workers = workers or cpu_count()
    server_env = _server_env(env)
    collectstatic(server_env)
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
        prefix="bench-gunicorn-", suffix=".log", delete=False
    )
    log_path = Path(log_file.name)
    command = [
        *_gunicorn_command(),
        WSGI_APP,
        "--bind",
        f"{LOOPBACK}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=server_env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killpg stops the master and workers
    )
    server = Server(port=port, workers=workers, pid=process.pid, log_path=log_path)
    try:
        _wait_healthy(process, server, startup_timeout, unhealthy_timeout)
        yield server
    finally:
        _stop(process)
        log_file.close()
        with contextlib.suppress(OSError):
            log_path.unlink()


def _wait_healthy(
    process: subprocess.Popen, server: Server, startup_timeout: float, unhealthy_timeout: float
) -> None:
    started = time.monotonic()
    first_answer: float | None = None
    last = "no answer"
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with status {process.returncode} before answering /healthz:\n"
                + server.log()
            )
        try:
            status, body = _get(server.port, "/healthz")
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200:
                return
            first_answer = first_answer or time.monotonic()
            last = f"HTTP {status}: {body[:500].decode(errors='replace')}"
        now = time.monotonic()
        if now - started > startup_timeout or (
            first_answer is not None and now - first_answer > unhealthy_timeout
        ):
            raise RuntimeError(f"/healthz never answered 200 (last: {last}).\n" + server.log())
        # Bounded polling of a starting server, not a wait for a result.
        time.sleep(0.05)


# --- the load generator -------------------------------------------------------------------------


@dataclass
class Rate:
    url: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    errors: int
    statuses: dict[int, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)
    # What the warm-up got (not counted above): to reconcile writes with the responses seen.
    warmup_statuses: dict[int, int] = field(default_factory=dict)
    warmup_errors: int = 0


def measure_rate(
    url: str,
    seconds: float = 5.0,
    concurrency: int = 8,
    *,
    max_requests: int = 200_000,
    warmup: float = 0.5,
    ok_statuses: set[int] | None = None,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body_factory: Callable[[], bytes] | None = None,
    timeout: float = 10.0,
) -> Rate:
    """Load `url` (on 127.0.0.1 only) from another process with `concurrency` connections.

    Stops after `seconds` or `max_requests` measured requests, whichever comes first, after
    `warmup` seconds whose results are dropped (their statuses are in `Rate.warmup_statuses`). A
    response is an error unless its status is in `ok_statuses` (default: any 2xx or 3xx, so 304
    too); so is a refused or broken connection or a request slower than `timeout` seconds.

    `body_factory()` makes one request body (sent with a Content-Length; give the Content-Type in
    `headers`). It is called here, before the load starts, once per request the run may send
    (`max_requests`, twice with a warm-up), so keep `max_requests` near what `seconds` needs; a
    phase also ends when its bodies run out.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != LOOPBACK:
        raise ValueError(f"Benchmarks only load http://{LOOPBACK}:<port>/…, not {url!r}.")
    if seconds <= 0 or concurrency < 1 or max_requests < 1:
        raise ValueError("seconds, concurrency and max_requests must be positive.")
    bodies = None
    if body_factory is not None:
        budget = max_requests * (2 if warmup > 0 else 1)
        # latin-1 maps each byte to one character: the bytes survive the JSON job unchanged.
        bodies = [body_factory().decode("latin-1") for _ in range(budget)]
    job = {
        "url": url,
        "seconds": seconds,
        "concurrency": concurrency,
        "max_requests": max_requests,
        "warmup": warmup,
        "ok_statuses": sorted(ok_statuses) if ok_statuses is not None else None,
        "method": method,
        "headers": dict(headers or {}),
        "bodies": bodies,
        "timeout": timeout,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.harness"],
        cwd=ROOT,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=warmup + seconds + 2 * timeout + 30,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{result.stderr}")
    data = json.loads(result.stdout)
    data["statuses"] = {int(k): v for k, v in data["statuses"].items()}
    data["warmup_statuses"] = {int(k): v for k, v in data["warmup_statuses"].items()}
    return Rate(**data)


BARE_PATH = "/bench/bare/"


def bare_around(
    server: Server, measure: Callable[[], T], *, seconds: float, concurrency: int
) -> tuple[Rate, T]:
    """The bare view's rate measured just before *and* just after `measure()` (half of `seconds`
    each), combined, with what `measure()` returned.

    On a shared machine whose speed drifts from one second to the next, a baseline taken only
    before would compare two different machines; around the measurement, it covers both sides."""
    url = server.url(BARE_PATH)
    before = measure_rate(url, seconds=seconds / 2, concurrency=concurrency)
    result = measure()
    after = measure_rate(url, seconds=seconds / 2, concurrency=concurrency)
    return _combined(before, after), result


@dataclass
class Round(Generic[T]):
    ratio: float
    bare: Rate
    result: T


def rounds_against_bare(
    server: Server,
    measure: Callable[[], T],
    rate_of: Callable[[T], float],
    *,
    rounds: int,
    seconds: float,
    concurrency: int,
) -> tuple[Round[T], list[Round[T]]]:
    """`rounds` rounds of `bare_around(measure)`, each giving the ratio `rate_of(result)` / bare
    rate; returns the round with the median ratio and every round (in order).

    One burst of load from a neighbour on a shared machine then moves one round, not the
    figure."""
    done = []
    for _ in range(rounds):
        bare, result = bare_around(server, measure, seconds=seconds, concurrency=concurrency)
        ratio = rate_of(result) / bare.rps if bare.rps else float("nan")
        done.append(Round(ratio, bare, result))
    ranked = sorted(done, key=lambda r: (math.isnan(r.ratio), r.ratio))
    return ranked[(len(ranked) - 1) // 2], done


def ratios_text(rounds: list[Round]) -> str:
    """The rounds' ratios for the BENCH line, e.g. `0.21/0.24/0.19`."""
    return "/".join(f"{r.ratio:.2f}" for r in rounds)


def _combined(first: Rate, second: Rate) -> Rate:
    seconds = first.seconds + second.seconds
    good = first.rps * first.seconds + second.rps * second.seconds
    statuses = Counter(first.statuses) + Counter(second.statuses)
    kinds = Counter(first.error_kinds) + Counter(second.error_kinds)
    return Rate(
        url=first.url,
        requests=first.requests + second.requests,
        seconds=round(seconds, 3),
        rps=good / seconds if seconds > 0 else 0.0,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p95_ms=max(first.p95_ms, second.p95_ms),
        errors=first.errors + second.errors,
        statuses=dict(statuses),
        error_kinds=dict(kinds),
        warmup_statuses=dict(Counter(first.warmup_statuses) + Counter(second.warmup_statuses)),
        warmup_errors=first.warmup_errors + second.warmup_errors,
    )


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


# --- cycles: each connection plays a sequence of requests, over and over ------------------------


def measure_cycles(
    base_url: str,
    steps: list[tuple[str, str, bytes]],
    clients: list[Mapping[str, str]],
    *,
    shown: list[dict[str, str]] | None = None,
    seconds: float = 5.0,
    warmup: float = 0.5,
    ok_statuses: set[int] | None = None,
    timeout: float = 10.0,
) -> Rate:
    """Every client (its own headers, e.g. a session cookie) plays `steps` — (method, path,
    body) — in order on its own connection, over and over, all at once, from another process.

    A body may name what the client's page shows (`{visit}`): `shown` gives each client's at
    the start, and each answer's Location fragment (`#visit-12`) what it shows next.

    A cycle counts when each of its steps got an `ok_statuses` answer (default 2xx/3xx); the rate
    is cycles per second, the latencies are whole cycles. A step answered otherwise is an error and
    ends that client's run (its state is no longer known): the load stops short rather than
    measuring something else."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname != LOOPBACK:
        raise ValueError(f"Benchmarks only load http://{LOOPBACK}:<port>/…, not {base_url!r}.")
    job = {
        "kind": "cycles",
        "url": base_url,
        "steps": [[method, path, body.decode("latin-1")] for method, path, body in steps],
        "clients": [dict(headers) for headers in clients],
        "shown": shown,
        "seconds": seconds,
        "warmup": warmup,
        "ok_statuses": sorted(ok_statuses) if ok_statuses is not None else None,
        "timeout": timeout,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.harness"],
        cwd=ROOT,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=warmup + seconds + 2 * timeout + 30,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{result.stderr}")
    data = json.loads(result.stdout)
    data["statuses"] = {int(k): v for k, v in data["statuses"].items()}
    data["warmup_statuses"] = {int(k): v for k, v in data["warmup_statuses"].items()}
    return Rate(**data)


async def _cycles_phase(
    job: dict, seconds: float, tally: _Tally, stopped: set[int], shown: list[dict]
) -> float:
    parts = urlsplit(job["url"])
    host, port = parts.hostname, parts.port or 80
    timeout = job["timeout"]
    loop = asyncio.get_running_loop()
    begin = loop.time()
    stop_at = begin + seconds

    def request(method: str, path: str, body: str, headers: dict) -> bytes:
        header_lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        payload = body.encode("latin-1")
        return (
            f"{method.upper()} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"User-Agent: cdm-bench\r\nAccept: */*\r\nConnection: keep-alive\r\n"
            f"{header_lines}Content-Length: {len(payload)}\r\n\r\n"
        ).encode("latin-1") + payload

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
                    method, raw = m.upper(), request(m, p, b.format(**page), headers)
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


def _load_main() -> None:
    job = json.loads(sys.stdin.read())
    result = asyncio.run(_run_cycles(job) if job.get("kind") == "cycles" else _run_job(job))
    json.dump(result, sys.stdout)


# --- the one line -------------------------------------------------------------------------------


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value).replace(" ", "_") or "-"


# --- the machine's own load ---------------------------------------------------------------------

_cpu_at_start: tuple[int, int] | None = None


def _cpu_times() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat (Linux); None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    steal = fields[7] if len(fields) > 7 else 0
    # guest time is already counted in user time
    return steal, sum(fields[:8])


def start_steal_clock() -> None:
    """Mark the start of a benchmark for the `steal=` figure of its line."""
    global _cpu_at_start
    _cpu_at_start = _cpu_times()


def _steal_percent() -> float | None:
    """Share of CPU time the hypervisor took from this machine since `start_steal_clock()`: on a
    shared virtual machine, a high figure explains a noisy ratio."""
    now = _cpu_times()
    if _cpu_at_start is None or now is None or now[1] <= _cpu_at_start[1]:
        return None
    return 100 * (now[0] - _cpu_at_start[0]) / (now[1] - _cpu_at_start[1])


def report(
    name: str,
    ratio: float,
    target: float,
    extra: Mapping[str, object],
    higher_is_better: bool = True,
    *,
    valid: bool = True,
) -> bool:
    """Print `BENCH <name> <key=value …> ratio=<x.xx> target=<y> PASS|FAIL`; return if it passed.

    `valid=False` (e.g. the load met errors) fails the benchmark whatever the ratio.
    """
    if math.isnan(ratio):
        passed = False
    else:
        passed = ratio >= target if higher_is_better else ratio <= target
    passed = passed and valid
    steal = _steal_percent()
    if steal is not None:
        extra = {**extra, "steal_pct": round(steal, 1)}
    pairs = " ".join(f"{key}={_format(value)}" for key, value in extra.items())
    line = (
        f"BENCH {name} {pairs} ratio={ratio:.2f} target={target:g} {'PASS' if passed else 'FAIL'}"
    )
    print(" ".join(line.split()), flush=True)
    return passed


if __name__ == "__main__":
    _load_main()
