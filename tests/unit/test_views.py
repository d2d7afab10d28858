"""The handlers' view cache (one parse per object version): a hit for the same
resourceVersion, a re-parse for a new one, `forget` on deletion, and a bound on its size
even for objects whose deletion it never hears about."""

from typing import Any

from portico.handlers.views import ViewCache


def body(uid: str, rv: str = "1") -> dict[str, Any]:
    return {
        "kind": "System",
        "metadata": {"name": uid, "namespace": "shop", "uid": uid, "resourceVersion": rv},
        "spec": {"owner": "group:team"},
    }


def test_one_parse_per_version_and_forget_on_deletion() -> None:
    cache = ViewCache()
    first = cache.view_of(body("a"))
    assert cache.view_of(body("a")) is first
    assert cache.view_of(body("a", rv="2")) is not first
    cache.forget(body("a"))
    assert len(cache) == 0


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = ViewCache(size=100)
    kept = cache.view_of(body("kept"))
    for i in range(1000):  # objects deleted while the watch was down: never forgotten
        cache.view_of(body(f"x{i}"))
        cache.view_of(body("kept"))  # in use: stays
    assert len(cache) == 100
    assert cache.view_of(body("kept")) is kept
