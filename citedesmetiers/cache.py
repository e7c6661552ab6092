"""Django's Redis cache, keeping one client per connection pool, and an atomic hit counter.

Django builds a new `redis.Redis` client for every cache call, and building one sets up its
whole table of response callbacks: on a small server that was a good share of a live poll. A
client is thread-safe and holds no connection of its own (it borrows one from the pool), so
one per pool is enough.
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends import redis as django_redis


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


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def hit(self, key: str, timeout: int) -> int:
        """Count one more hit on `key`, which lives `timeout` seconds from its first hit: one
        INCR (atomic across processes), and an EXPIRE only for the first hit of the period."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        count = client.incr(key)
        if count == 1:
            client.expire(key, timeout)
        return count

    def hits(self, keys: list[str], timeout: int) -> list[int]:
        """`hit` for several keys in one round trip (a pipeline), plus one for the EXPIREs of
        the keys hit for the first time."""
        made = [self.make_and_validate_key(key) for key in keys]
        client = self._cache.get_client(made[0], write=True)
        with client.pipeline(transaction=False) as pipe:
            for key in made:
                pipe.incr(key)
            counts = pipe.execute()
        fresh = [key for key, count in zip(made, counts, strict=True) if count == 1]
        if fresh:
            with client.pipeline(transaction=False) as pipe:
                for key in fresh:
                    pipe.expire(key, timeout)
                pipe.execute()
        return counts


def count_hits(keys: list[str], timeout: int, cache=None) -> list[int]:
    """`count_hit` for several keys; with Redis in one round trip."""
    cache = cache or caches["default"]
    if isinstance(cache, RedisCache):
        return cache.hits(keys, timeout)
    return [count_hit(key, timeout, cache) for key in keys]


def count_hit(key: str, timeout: int, cache=None) -> int:
    """Count one more hit on `key` in `cache` (the default one) and return the count, e.g. for a
    rate limit. Atomic on every shared backend: Redis in one round trip, others by add + incr."""
    cache = cache or caches["default"]
    if isinstance(cache, RedisCache):
        return cache.hit(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout)
        return 1
