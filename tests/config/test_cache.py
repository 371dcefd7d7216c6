"""config.cache: the production Redis cache keeps one client per pool, shared by threads and safe across a fork."""

from __future__ import annotations

import multiprocessing
import threading
import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

from config.cache import RedisCache


@pytest.fixture
def cache():
    location = settings.CACHES["default"].get("LOCATION")
    assert location and location.startswith("redis://"), "these tests need the Redis cache (REDIS_CACHE_URL)"
    backend = RedisCache(location, {})
    yield backend
    backend.close()


def test_the_settings_use_this_backend():
    assert isinstance(caches["default"], RedisCache)


def test_one_client_serves_every_operation(cache):
    key = f"test-cache-{uuid.uuid4().hex}"
    first = cache._cache.get_client(key, write=True)
    cache.set(key, "một", 30)
    assert cache.get(key) == "một"
    assert cache._cache.get_client(key) is first
    assert cache._cache.get_client(key, write=True) is first
    cache.delete(key)


def test_threads_share_the_client_without_mixing_answers(cache):
    keys = [f"test-cache-{uuid.uuid4().hex}" for _ in range(8)]
    wrong: list[tuple[str, object]] = []

    def work(key: str) -> None:
        for i in range(200):
            cache.set(key, f"{key}:{i}", 30)
            value = cache.get(key)
            if value != f"{key}:{i}":
                wrong.append((key, value))

    threads = [threading.Thread(target=work, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert cache.get_many(keys) == {key: f"{key}:199" for key in keys}
    cache.delete_many(keys)


def _child(key: str, answers) -> None:
    backend = _forked_backend
    backend.set(key, "từ tiến trình con", 30)
    answers.put((backend.get(key), backend._cache._pools[0].pid))


_forked_backend: RedisCache | None = None


def test_a_forked_process_gets_its_own_connections(cache):
    global _forked_backend
    key = f"test-cache-{uuid.uuid4().hex}"
    cache.set(key, "từ tiến trình cha", 30)  # the parent's pool is connected before the fork
    _forked_backend = cache
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_child, args=(key, answers))
    child.start()
    value, child_pool_pid = answers.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert value == "từ tiến trình con"
    assert child_pool_pid == child.pid  # the pool saw the fork and opened the child's own connections
    assert cache.get(key) == "từ tiến trình con"
    cache.set(key, "lại từ cha", 30)
    assert cache.get(key) == "lại từ cha"
    cache.delete(key)
