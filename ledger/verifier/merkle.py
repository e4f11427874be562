"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, pure and storage-agnostic.

Nodes are addressed by (level, index): level 0 holds leaf hashes and the node at (level, index)
is the root of the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level). Only
such complete subtrees are ever stored; every other hash (roots of odd sizes, proof elements) is
built from them on demand, so appending never rewrites a stored node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from ledger.errors import IntegrityViolation

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int, bytes]


def leaf_hash(data: bytes) -> bytes:
    """Domain-separate leaves from nodes so a leaf can never pose as an inner node."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Combine two children under the 0x01 prefix that RFC 9162 reserves for inner nodes."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2), where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The reference Merkle Tree Hash of leaf hashes, for checking stored trees against."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


class NodeReader(Protocol):
    """Where stored perfect subtrees come from: a dict in tests, a table in production."""

    def node(self, level: int, index: int) -> bytes: ...


def nodes_to_store(
    size_before: int, new_leaf_hashes: Sequence[bytes], reader: NodeReader
) -> list[Node]:
    """Every node an append completes, so the caller can write them in the same transaction.

    Only left siblings that were complete before the append are read (at most one per level);
    everything else comes from the nodes computed here.
    """
    fresh: dict[tuple[int, int], bytes] = {}
    out: list[Node] = []
    for offset, digest in enumerate(new_leaf_hashes):
        level, index = 0, size_before + offset
        while True:
            fresh[(level, index)] = digest
            out.append((level, index, digest))
            if index % 2 == 0:
                break
            left = fresh.get((level, index - 1))
            if left is None:
                left = reader.node(level, index - 1)
            digest = node_hash(left, digest)
            level, index = level + 1, index // 2
    return out


def subtree_hash(start: int, end: int, reader: NodeReader) -> bytes:
    """MTH of leaves [start, end), read as whole stored subtrees wherever they line up."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return reader.node(level, start >> level)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, reader), subtree_hash(start + k, end, reader))


def root_from_nodes(size: int, reader: NodeReader) -> bytes:
    """The tree head for `size` leaves from O(log size) stored nodes, without touching leaves."""
    if size < 0:
        raise ValueError(f"a tree cannot have {size} leaves")
    return subtree_hash(0, size, reader)


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """The audit path (RFC 9162 §2.1.3.1) that shows leaf `index` is in the tree of `size`."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, reader))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, reader))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    """The proof (RFC 9162 §2.1.4.1) that the tree of `old_size` is a prefix of `new_size`."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, whole = 0, new_size, True
    while old_size != end:
        k = _split(end - start)
        if old_size - start <= k:
            proof.append(subtree_hash(start + k, end, reader))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, reader))
            start, whole = start + k, False
    if not whole:
        proof.append(subtree_hash(start, end, reader))
    proof.reverse()
    return proof


def _check_elements(check: str, proof: Sequence[bytes]) -> None:
    if any(len(element) != HASH_SIZE for element in proof):
        raise IntegrityViolation(check, f"A proof element is not a {HASH_SIZE}-byte hash.")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless `proof` shows the leaf at `index` is under `root` (RFC 9162 §2.1.3.2)."""
    check = "inclusion proof"
    if not 0 <= index < size:
        raise IntegrityViolation(check, f"Leaf index {index} is outside a tree of {size} leaves.")
    _check_elements(check, proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise IntegrityViolation(check, "The proof is longer than the tree size allows.")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise IntegrityViolation(check, "The proof is shorter than the tree size requires.")
    if r != root:
        raise IntegrityViolation(check, "The proof does not lead to the expected root hash.")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise unless `proof` shows the old tree is a prefix of the new one (RFC 9162 §2.1.4.2)."""
    check = "consistency proof"
    if not 0 <= old_size <= new_size:
        raise IntegrityViolation(
            check, f"Tree size {old_size} cannot precede tree size {new_size}."
        )
    _check_elements(check, proof)
    if old_size in (0, new_size):
        if proof:
            raise IntegrityViolation(check, "The proof must be empty for these tree sizes.")
        expected = EMPTY_ROOT if old_size == 0 else new_root
        if old_root != expected:
            raise IntegrityViolation(
                check, "The old root hash does not match the tree it claims to be."
            )
        return
    if not proof:
        raise IntegrityViolation(check, "The proof is empty.")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise IntegrityViolation(check, "The proof is longer than the tree sizes allow.")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise IntegrityViolation(check, "The proof is shorter than the tree sizes require.")
    if fr != old_root:
        raise IntegrityViolation(check, "The proof does not lead to the old root hash.")
    if sr != new_root:
        raise IntegrityViolation(check, "The proof does not lead to the new root hash.")


class MemoryNodes:
    """A NodeReader over a dict, for tests and for trees that never outlive the process."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        try:
            return self.nodes[(level, index)]
        except KeyError:
            raise IntegrityViolation(
                "log", f"the Merkle tree has no node at level {level}, index {index}"
            ) from None

    def add(self, nodes: Iterable[Node]) -> None:
        """Store completed nodes once, as the database's primary key would insist."""
        for level, index, digest in nodes:
            if (level, index) in self.nodes:
                raise ValueError(f"node at level {level}, index {index} is already stored")
            self.nodes[(level, index)] = digest


class MemoryTree:
    """An append-only tree over MemoryNodes, driven through the same functions as production."""

    def __init__(self) -> None:
        self.nodes = MemoryNodes()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        self.extend([leaf_hash])

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append a batch the way the log does: one call, one set of nodes."""
        self.nodes.add(nodes_to_store(self._size, leaf_hashes, self.nodes))
        self._size += len(leaf_hashes)

    def root(self, size: int | None = None) -> bytes:
        return root_from_nodes(self._size if size is None else self._checked(size), self.nodes)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return inclusion_proof(index, self._checked(size), self.nodes)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return consistency_proof(old_size, self._checked(new_size), self.nodes)

    def _checked(self, size: int) -> int:
        if not 0 <= size <= self._size:
            raise ValueError(f"the tree has {self._size} leaves, not {size}")
        return size


class Frontier:
    """The compact range of a growing tree (RFC 9162's "tree head from the right edge"): one
    perfect subtree hash per set bit of the size, O(log n) hashes in all, so a stream of leaves
    can be hashed to the root at any size it passes without keeping the leaves."""

    def __init__(self, size: int = 0, stack: Sequence[bytes] = ()) -> None:
        if len(stack) != bin(size).count("1") or any(len(h) != HASH_SIZE for h in stack):
            raise ValueError(f"{len(stack)} hashes are not the frontier of a tree of {size}")
        self.size = size
        self._stack = list(stack)

    @property
    def hashes(self) -> list[bytes]:
        """The perfect subtrees' hashes, largest (leftmost) first: with the size, the state."""
        return list(self._stack)

    def append(self, leaf_hash: bytes) -> None:
        digest, n = leaf_hash, self.size
        while n & 1:
            digest = node_hash(self._stack.pop(), digest)
            n >>= 1
        self._stack.append(digest)
        self.size += 1

    def root(self) -> bytes:
        """The Merkle Tree Hash of every leaf appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest
