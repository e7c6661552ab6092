"""The server of a benchmark: gunicorn as in production (sync workers, one per core, DEBUG off,
static files collected, whitenoise) on a free loopback port, with the settings of
`bench.settings`; its whole process group is stopped on exit. In front of it, when a benchmark
plays a network's deployment: HAProxy (round-robin over several gunicorns) and PgBouncer
(transaction mode) from the Debian packages. Only the standard library."""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_MODULE = "bench.settings"
WSGI_APP = "citedesmetiers.wsgi:application"
LOOPBACK = "127.0.0.1"

# One key per bench run, shared by this process and the servers it starts (so a benchmark can make
# a session or a signed value with the ORM and send it to the server).
_SECRET_KEY = "bench-" + secrets.token_urlsafe(64)
_collected_static = False


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


# --- what a network's deployment puts around the servers -----------------------------------------


def wait_until_listening(process: subprocess.Popen, port: int, what: str) -> None:
    """Return once `process` accepts connections on 127.0.0.1:`port` (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{what} stopped at its start") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)  # waiting for a process to listen, not standing in for a result


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError(f"{name} is not installed (Debian package `{name}`).")
    return found


@contextlib.contextmanager
def _daemon(command: list[str], port: int, what: str, folder: Path) -> Iterator[int]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(process, port, what)
        yield port
    finally:
        _stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def pgbouncer(
    database: Mapping[str, str], *, pool_size: int, max_clients: int = 200
) -> Iterator[int]:
    """A PgBouncer of its own in transaction mode, `pool_size` server connections per database,
    in front of `database` (HOST, PORT, USER, PASSWORD as in Django's settings); yields its port.
    It runs as `postgres` when we are root (it refuses to run as root)."""
    binary = _binary("pgbouncer")
    # Outside any private temporary folder: as `postgres`, it must read its file and write its log.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o777)
    port = free_port()
    server = (
        f"host={database.get('HOST') or LOOPBACK} port={database.get('PORT') or 5432} "
        f"user={database['USER']} password={database['PASSWORD']}"
    )
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = {server}\n"
        "[pgbouncer]\n"
        f"listen_addr = {LOOPBACK}\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = any\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {pool_size}\n"
        f"max_client_conn = {max_clients}\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    config.chmod(0o644)
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    with _daemon([binary, *as_user, str(config)], port, "pgbouncer", folder):
        yield port


@contextlib.contextmanager
def haproxy(backends: list[int]) -> Iterator[int]:
    """HAProxy on a free loopback port, balancing each request round-robin over the gunicorns on
    `backends` (no stickiness: a session cookie may land on any of them); yields its port. Each
    answer names the server that made it (`X-Served-By`), so a benchmark can see the balance."""
    binary = _binary("haproxy")
    folder = Path(tempfile.mkdtemp(prefix="haproxy-"))
    port = free_port()
    servers = "".join(
        f"  server node{n} {LOOPBACK}:{backend}\n" for n, backend in enumerate(backends, 1)
    )
    config = folder / "haproxy.cfg"
    config.write_text(
        "global\n"
        "  maxconn 4000\n"
        "defaults\n"
        "  mode http\n"
        "  option http-keep-alive\n"
        "  timeout connect 5s\n"
        "  timeout client 60s\n"
        "  timeout server 60s\n"
        "  timeout queue 60s\n"
        "frontend web\n"
        f"  bind {LOOPBACK}:{port}\n"
        "  default_backend nodes\n"
        "backend nodes\n"
        "  balance roundrobin\n"
        "  http-response set-header X-Served-By %s\n"
        f"{servers}"
    )
    # -db: in the foreground, so stopping the process stops it.
    with _daemon([binary, "-db", "-f", str(config)], port, "haproxy", folder):
        yield port
