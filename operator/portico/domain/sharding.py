"""Which shard owns a namespace: a pure decision every shard must make identically.

Sharding splits the writes, never the reads: every shard watches and indexes the whole
catalog (references, relations and roll-ups resolve across shards), and reconciles, writes
status, posts Events and acts outside Kubernetes only for entities in the namespaces it owns.

A namespace's shard is a stable hash of its name (sha256, never Python's per-process
`hash()`), unless an admin pins it with the namespace label `portico.dev/shard: "<i>"`. A
pin that is not a shard index (not an integer, or not below the shard count) is ignored, so
every shard still reaches the same answer. With one shard (the default) everything is owned.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

SHARD_LABEL = "portico.dev/shard"
FINALIZER = "portico.dev/cleanup"


def hashed_shard(namespace: str, shards: int) -> int:
    """The namespace's shard by hash: the first 8 bytes of sha256(name), modulo the count."""
    digest = hashlib.sha256(namespace.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def pinned_shard(labels: Mapping[str, str], shards: int) -> int | None:
    """The shard the label pins, when it names one that exists."""
    raw = labels.get(SHARD_LABEL, "").strip()
    if not raw.isdigit():
        return None
    shard = int(raw)
    return shard if shard < shards else None


def shard_of(namespace: str, labels: Mapping[str, str], shards: int) -> int:
    if shards <= 1:
        return 0
    pinned = pinned_shard(labels, shards)
    return pinned if pinned is not None else hashed_shard(namespace, shards)


@dataclass(frozen=True)
class Sharding:
    """This process's place: shard `shard` of `shards` (0-based)."""

    shards: int = 1
    shard: int = 0

    @property
    def enabled(self) -> bool:
        return self.shards > 1

    def owns(self, namespace: str, labels: Mapping[str, str]) -> bool:
        return not self.enabled or shard_of(namespace, labels, self.shards) == self.shard

    def peering(self, name: str | None) -> str | None:
        """Each shard's replicas peer among themselves: a standby for shard i takes over
        only shard i."""
        if name is None or not self.enabled:
            return name
        return f"{name}-shard-{self.shard}"

    @property
    def finalizer(self) -> str:
        """The cleanup finalizer this shard adds and removes.

        kopf removes its finalizer from any object none of its deletion handlers wants, so
        shards sharing one name would take each other's off. Shard 0 keeps the unsharded
        name, so going from one shard to several migrates by itself: shard 0 drops
        `portico.dev/cleanup` from the Components it does not own, and their owner adds its
        own. (Lowering the shard count leaves the removed shards' finalizers behind.)
        """
        return FINALIZER if self.shard == 0 else f"{FINALIZER}-shard-{self.shard}"

    def describe(self) -> str:
        return f"shard {self.shard} of {self.shards}" if self.enabled else "unsharded"
