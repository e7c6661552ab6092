"""Django's Redis cache, keeping one client per connection pool, surviving an outage of Redis, and
an atomic hit counter.

One client per pool: Django builds a new `redis.Redis` client for every cache call, and building
one sets up its whole table of response callbacks: on a small server that was a good share of a
live poll. A client is thread-safe and holds no connection of its own (it borrows one from the
pool), so one per pool is enough.

An outage: reception and the desks must not stop because a cache is away. While Redis cannot be
reached (refused, reset, timed out), a read misses and a write is dropped, as django-redis does
with IGNORE_EXCEPTIONS: sessions are then read from the database (they are written through to it),
the directory reads the database, live marks always look changed so screens re-render at their
poll pace, and allauth's login limits let people in. Only `hit` (the rate limits of public writes)
raises `CacheUnavailable`, so its callers can refuse instead of counting nothing.

What a dropped write leaves behind is the danger: a session deleted at logout, a role taken away
or a screen's mark replaced while Redis was away would come back as it was when Redis does (its
append-only file kept it, or only the network was cut). Any process that found Redis away
deletes, first thing once it answers again, every key of its cache (they can all be rebuilt:
sessions are in the database too), whichever process's write was the one dropped. What the
process knows of an outage is shared by all its threads; the cached copy of a session also lives
a few minutes at most (`citedesmetiers.sessions`), for a process that died during the outage."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import wraps

from django.core.cache import caches
from django.core.cache.backends import redis as django_redis
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

# Out of memory too: a cache that cannot take a write is as good as away.
UNREACHABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.OutOfMemoryError,
)
# Every key expires, at the latest after this: under deployment's memory limit, Redis evicts only
# keys with an expiry (volatile-lru), which keeps the broker's queues, in the same server, safe.
LONGEST_TIMEOUT = 30 * 24 * 3600
LOG_EVERY_SECONDS = 30
# After a failure, calls go without Redis for this long before it is tried again.
RETRY_AFTER_SECONDS = 1.0


class CacheUnavailable(Exception):
    """Redis cannot be reached: a rate limit cannot count."""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


def _tolerant(default=None):
    """Run the cache method; while Redis is unreachable, return `default` instead (called if it
    is callable)."""

    def decorator(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                self._check_reachable()
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                self._unreachable(error)
                return default() if callable(default) else default

        return wrapper

    return decorator


@dataclass
class Outage:
    """What a process knows of one Redis cache's availability, shared by its threads (Django
    makes a cache object per thread)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    away_until: float = 0.0  # calls go without Redis until then
    dirty: bool = False  # Redis was found away: its keys may be stale once it is back
    logged_at: float = 0.0


_OUTAGES: dict[tuple[str, str], Outage] = {}
_OUTAGES_LOCK = threading.Lock()


def _outage_of(server: str, prefix: str) -> Outage:
    with _OUTAGES_LOCK:
        return _OUTAGES.setdefault((server, prefix), Outage())


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self.outage = _outage_of(str(server), self.key_prefix)

    def get_backend_timeout(self, timeout=django_redis.DEFAULT_TIMEOUT):
        timeout = super().get_backend_timeout(timeout)
        return LONGEST_TIMEOUT if timeout is None else min(timeout, LONGEST_TIMEOUT)

    # --- an outage ----------------------------------------------------------------------------

    def _check_reachable(self) -> None:
        """Raise at once while a recent failure says Redis is away (each call would otherwise
        wait for its own time-out); else drop what the outage left behind."""
        if time.monotonic() < self.outage.away_until:
            raise redis_errors.ConnectionError("Redis was unreachable a moment ago")
        if self.outage.dirty:
            self._forget_everything()

    def _unreachable(self, error: Exception) -> None:
        outage, now = self.outage, time.monotonic()
        outage.away_until = now + RETRY_AFTER_SECONDS
        outage.dirty = True
        if now - outage.logged_at > LOG_EVERY_SECONDS:
            outage.logged_at = now
            logger.warning("Redis is unreachable, going on without the cache: %s", error)

    def _forget_everything(self) -> None:
        """Delete every key of this cache (its prefix), as the outage may have left any of them
        stale; raises while Redis is still away."""
        with self.outage.lock:
            if not self.outage.dirty:
                return  # another thread did it meanwhile
            deleted = self._delete_own_keys()
            self.outage.dirty = False
        logger.warning("Redis is back: %d keys of %s dropped, as stale", deleted, self.key_prefix)

    def _delete_own_keys(self) -> int:
        """Delete every key of this cache's prefix (and none of another's); how many."""
        client = self._cache.get_client(write=True)
        deleted = 0
        batch = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                deleted += client.unlink(*batch)
                batch = []
        if batch:
            deleted += client.unlink(*batch)
        return deleted

    def reachable(self) -> bool:
        """Whether Redis answers now (for /healthz): not asked again while a recent failure
        says it is away."""
        try:
            self._check_reachable()
            self._cache.get_client(write=True).ping()
        except UNREACHABLE as error:
            self._unreachable(error)
            return False
        return True

    # --- the cache API, tolerant ---------------------------------------------------------------

    def get(self, key, default=None, version=None):
        # As `_tolerant`, with the caller's default.
        try:
            self._check_reachable()
            return super().get(key, default, version)
        except UNREACHABLE as error:
            self._unreachable(error)
            return default

    @_tolerant(default=dict)
    def get_many(self, keys, version=None):
        return super().get_many(keys, version)

    @_tolerant(default=False)
    def has_key(self, key, version=None):
        return super().has_key(key, version)

    @_tolerant(default=False)
    def add(self, key, value, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return super().add(key, value, timeout, version)

    @_tolerant(default=None)
    def set(self, key, value, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return super().set(key, value, timeout, version)

    @_tolerant(default=list)
    def set_many(self, data, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return super().set_many(data, timeout, version)

    @_tolerant(default=False)
    def touch(self, key, timeout=django_redis.DEFAULT_TIMEOUT, version=None):
        return super().touch(key, timeout, version)

    @_tolerant(default=False)
    def delete(self, key, version=None):
        return super().delete(key, version)

    @_tolerant(default=None)
    def delete_many(self, keys, version=None):
        return super().delete_many(keys, version)

    @_tolerant(default=None)
    def clear(self) -> None:
        """This cache's keys only. Django's would FLUSHDB, emptying every cache that shares the
        Redis database: the live marks' cache, the sessions' copies in the default one, each test
        worker's own prefix."""
        self._delete_own_keys()

    # --- the hit counter ------------------------------------------------------------------------

    def hit(self, key: str, timeout: int) -> int:
        """Count one more hit on `key`, which lives `timeout` seconds from its first hit (see
        `hits`)."""
        return self.hits([key], timeout)[0]

    def hits(self, keys: list[str], timeout: int) -> list[int]:
        """Count one more hit on each of `keys`, each living `timeout` seconds from its first
        hit, in one round trip (a pipeline; each INCR is atomic across processes). Raises
        CacheUnavailable while Redis cannot be reached."""
        made = [self.make_and_validate_key(key) for key in keys]
        client = self._cache.get_client(made[0], write=True)
        try:
            self._check_reachable()
            with client.pipeline(transaction=False) as pipe:
                for key in made:
                    # The key is made with its expiry, if missing, before it is counted: a
                    # failure between the two can never leave a counter that lives forever.
                    pipe.set(key, 0, ex=timeout, nx=True)
                    pipe.incr(key)
                answers = pipe.execute()
        except UNREACHABLE as error:
            self._unreachable(error)
            raise CacheUnavailable(str(error)) from error
        return answers[1::2]


def count_hits(keys: list[str], timeout: int, cache=None) -> list[int]:
    """`count_hit` for several keys; with Redis in one round trip. Raises CacheUnavailable like
    `count_hit`."""
    cache = cache or caches["default"]
    if isinstance(cache, RedisCache):
        return cache.hits(keys, timeout)
    return [count_hit(key, timeout, cache) for key in keys]


def count_hit(key: str, timeout: int, cache=None) -> int:
    """Count one more hit on `key` in `cache` (the default one) and return the count, e.g. for a
    rate limit. With Redis, atomic across processes in one round trip; the embedded default's
    database cache adds then increments, which a burst of simultaneous hits can undercount.
    Raises CacheUnavailable when Redis cannot be reached: a caller guarding a public write
    refuses it; one guarding a read may let it through."""
    cache = cache or caches["default"]
    if isinstance(cache, RedisCache):
        return cache.hit(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout)
        return 1
