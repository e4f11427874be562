"""The Merkle tree against the published RFC 6962 vectors, and against itself under Hypothesis."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import IntegrityViolation
from ledger.verifier import merkle

VECTORS_DIR = Path(__file__).resolve().parents[1] / "data" / "rfc6962"  # carried: see its README

INCLUSION = "inclusion proof"
CONSISTENCY = "consistency proof"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS_DIR / "vectors.json").read_text())
    return data


@pytest.fixture(scope="module")
def leaves(vectors: dict[str, Any]) -> list[bytes]:
    return [merkle.leaf_hash(bytes.fromhex(x)) for x in vectors["leaf_inputs"]]


@pytest.fixture(scope="module")
def roots(vectors: dict[str, Any]) -> dict[int, bytes]:
    return {int(size): bytes.fromhex(x) for size, x in vectors["roots"].items()}


def tree_of(leaves: Sequence[bytes]) -> merkle.MemoryTree:
    tree = merkle.MemoryTree()
    tree.extend(leaves)
    return tree


def rejected(check: str, verify: Callable[..., None], *args: Any) -> None:
    with pytest.raises(IntegrityViolation) as caught:
        verify(*args)
    assert caught.value.check == check
    assert caught.value.detail


def flipped(proof: list[bytes], at: int) -> list[bytes]:
    element = bytearray(proof[at])
    element[len(element) // 2] ^= 0x01
    return [*proof[:at], bytes(element), *proof[at + 1 :]]


def tampered(proof: list[bytes]) -> list[list[bytes]]:
    """One flipped byte in each element, each element dropped, an extra element either end."""
    extra = merkle.leaf_hash(b"extra")
    return [
        *(flipped(proof, i) for i in range(len(proof))),
        *([*proof[:i], *proof[i + 1 :]] for i in range(len(proof))),
        [*proof, extra],
        [extra, *proof],
    ]


# -- hashing -------------------------------------------------------------------------------


def test_hashes_are_domain_separated_sha256() -> None:
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert a != merkle.node_hash(a, b)
    assert merkle.node_hash(a, b) != merkle.node_hash(b, a)
    assert merkle.root([a]) == a
    assert merkle.root([a, b]) == merkle.node_hash(a, b)


def test_roots_match_published(leaves: list[bytes], roots: dict[int, bytes]) -> None:
    assert sorted(roots) == list(range(9))
    tree = merkle.MemoryTree()
    assert tree.root() == merkle.EMPTY_ROOT == roots[0]
    for n in range(1, 9):
        assert merkle.root(leaves[:n]) == roots[n]
        tree.append(leaves[n - 1])
        assert tree.size == n
        assert tree.root() == roots[n]
        assert merkle.root_from_nodes(n, tree.nodes) == roots[n]
    for n in range(9):
        assert tree.root(n) == roots[n]


def test_roots_match_published_when_appended_in_batches(
    leaves: list[bytes], roots: dict[int, bytes]
) -> None:
    tree = merkle.MemoryTree()
    for batch in ([0, 1, 2], [3], [], [4, 5, 6, 7]):
        tree.extend([leaves[i] for i in batch])
        assert tree.root() == roots[tree.size]
    assert tree.size == 8


# -- published inclusion proofs ---------------------------------------------------------------


def test_inclusion_proofs_match_published(
    vectors: dict[str, Any], leaves: list[bytes], roots: dict[int, bytes]
) -> None:
    tree = tree_of(leaves)
    assert vectors["inclusion"]
    for number, size, published in vectors["inclusion"]:
        index = number - 1  # published 1-based
        proof = tree.inclusion_proof(index, size)
        assert proof == [bytes.fromhex(x) for x in published]
        merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])


def test_tampered_inclusion_proofs_are_rejected(
    vectors: dict[str, Any], leaves: list[bytes], roots: dict[int, bytes]
) -> None:
    for number, size, published in vectors["inclusion"]:
        index, root = number - 1, roots[size]
        proof = [bytes.fromhex(x) for x in published]
        for bad in tampered(proof):
            rejected(INCLUSION, merkle.verify_inclusion, leaves[index], index, size, bad, root)
        other_leaf = leaves[(index + 1) % len(leaves)]
        rejected(INCLUSION, merkle.verify_inclusion, other_leaf, index, size, proof, root)
        for wrong_index in (index - 1, index + 1, size, -1):
            if wrong_index != index:
                rejected(
                    INCLUSION,
                    merkle.verify_inclusion,
                    leaves[index],
                    wrong_index,
                    size,
                    proof,
                    root,
                )
        # Neighbouring sizes can share a proof's shape (index 5 of 7 or 8 leaves), so the same
        # proof and root pass: a root is only ever trusted together with the size signed with
        # it. A neighbouring size with its own root, or a doubled size, always fails.
        for wrong_size in (size * 2, index, 0):
            rejected(
                INCLUSION, merkle.verify_inclusion, leaves[index], index, wrong_size, proof, root
            )
        for wrong_size in (size - 1, size + 1):
            if index < wrong_size in roots:
                rejected(
                    INCLUSION,
                    merkle.verify_inclusion,
                    leaves[index],
                    index,
                    wrong_size,
                    proof,
                    roots[wrong_size],
                )
        for wrong_root in (flipped([root], 0)[0], roots[size - 1], merkle.EMPTY_ROOT):
            rejected(
                INCLUSION, merkle.verify_inclusion, leaves[index], index, size, proof, wrong_root
            )


def test_inclusion_rejects_elements_that_are_not_hashes(leaves: list[bytes]) -> None:
    tree = tree_of(leaves)
    proof = tree.inclusion_proof(2, 8)
    short = [proof[0][:-1], *proof[1:]]
    rejected(INCLUSION, merkle.verify_inclusion, leaves[2], 2, 8, short, tree.root())


# -- published consistency proofs -------------------------------------------------------------


def test_consistency_proofs_match_published(
    vectors: dict[str, Any], leaves: list[bytes], roots: dict[int, bytes]
) -> None:
    tree = tree_of(leaves)
    assert vectors["consistency"]
    for old, new, published in vectors["consistency"]:
        proof = tree.consistency_proof(old, new)
        assert proof == [bytes.fromhex(x) for x in published]
        merkle.verify_consistency(old, new, roots[old], roots[new], proof)


def test_tampered_consistency_proofs_are_rejected(
    vectors: dict[str, Any], roots: dict[int, bytes]
) -> None:
    verify = merkle.verify_consistency
    for old, new, published in vectors["consistency"]:
        proof = [bytes.fromhex(x) for x in published]
        old_root, new_root = roots[old], roots[new]
        for bad in tampered(proof):
            rejected(CONSISTENCY, verify, old, new, old_root, new_root, bad)
        for wrong_old in (old - 1, old + 1):
            if wrong_old <= new:
                rejected(CONSISTENCY, verify, wrong_old, new, old_root, new_root, proof)
        # As with inclusion: a doubled new size, or a neighbouring one with its own root.
        for wrong_new in (new * 2, old - 1):
            rejected(CONSISTENCY, verify, old, wrong_new, old_root, new_root, proof)
        for wrong_new in (new - 1, new + 1):
            if old <= wrong_new in roots:
                rejected(CONSISTENCY, verify, old, wrong_new, old_root, roots[wrong_new], proof)
        for wrong_root in (flipped([old_root], 0)[0], roots[old - 1]):
            rejected(CONSISTENCY, verify, old, new, wrong_root, new_root, proof)
        for wrong_root in (flipped([new_root], 0)[0], roots[new - 1]):
            rejected(CONSISTENCY, verify, old, new, old_root, wrong_root, proof)
        if old != new:
            rejected(CONSISTENCY, verify, old, new, new_root, old_root, proof)


def test_consistency_edge_cases(leaves: list[bytes], roots: dict[int, bytes]) -> None:
    tree = tree_of(leaves)
    assert tree.consistency_proof(0, 5) == []
    merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, roots[5], [])
    merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    merkle.verify_consistency(4, 4, roots[4], roots[4], [])
    verify = merkle.verify_consistency
    rejected(CONSISTENCY, verify, 0, 5, roots[1], roots[5], [])
    rejected(CONSISTENCY, verify, 0, 5, merkle.EMPTY_ROOT, roots[5], [roots[1]])
    rejected(CONSISTENCY, verify, 4, 4, roots[4], roots[5], [])
    rejected(CONSISTENCY, verify, 5, 4, roots[5], roots[4], tree.consistency_proof(4, 5))
    rejected(CONSISTENCY, verify, 3, 5, roots[3], roots[5], [])
    rejected(CONSISTENCY, verify, -1, 5, roots[3], roots[5], [])


# -- generation guards and reads ----------------------------------------------------------------


def test_proof_generation_refuses_impossible_arguments(leaves: list[bytes]) -> None:
    tree = tree_of(leaves)
    for index, size in ((8, 8), (-1, 8), (0, 0), (0, 9)):
        with pytest.raises(ValueError):
            tree.inclusion_proof(index, size)
    for old, new in ((5, 4), (-1, 4), (4, 9)):
        with pytest.raises(ValueError):
            tree.consistency_proof(old, new)
    with pytest.raises(ValueError):
        merkle.root_from_nodes(-1, tree.nodes)


def test_missing_nodes_and_duplicates_are_refused(leaves: list[bytes]) -> None:
    tree = tree_of(leaves[:3])
    with pytest.raises(IntegrityViolation) as caught:
        merkle.root_from_nodes(4, tree.nodes)
    assert caught.value.check == "log"
    with pytest.raises(ValueError):
        tree.nodes.add([(0, 2, leaves[2])])


def test_subtree_hash_of_any_range_is_its_reference_root() -> None:
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(13)]
    tree = tree_of(hashes)
    for start in range(14):
        for end in range(start, 14):
            assert merkle.subtree_hash(start, end, tree.nodes) == merkle.root(hashes[start:end])


class CountingNodes:
    """Counts reads and refuses any node that was not stored, as the database would."""

    def __init__(self, inner: merkle.MemoryNodes) -> None:
        self.inner = inner
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.inner.node(level, index)


@pytest.mark.parametrize("size_before", [0, 1, 2, 3, 7, 8, 100, 255, 256, 1000])
@pytest.mark.parametrize("batch", [1, 5])
def test_appends_read_at_most_one_stored_node_per_level(size_before: int, batch: int) -> None:
    hashes = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size_before + batch)]
    tree = tree_of(hashes[:size_before])
    counting = CountingNodes(tree.nodes)
    nodes = merkle.nodes_to_store(size_before, hashes[size_before:], counting)
    assert counting.reads <= size_before.bit_length()
    tree.nodes.add(nodes)
    assert merkle.root_from_nodes(len(hashes), counting) == merkle.root(hashes)
    counting.reads = 0
    merkle.inclusion_proof(len(hashes) // 3, len(hashes), counting)
    assert counting.reads <= 2 * len(hashes).bit_length()


# -- properties -----------------------------------------------------------------------------


def reference_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 PATH straight from the definition, over the leaf list."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if index < k:
        return [*reference_path(index, leaves[:k]), merkle.root(leaves[k:])]
    return [*reference_path(index - k, leaves[k:]), merkle.root(leaves[:k])]


def reference_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 SUBPROOF straight from the definition, over the leaf list."""
    n = len(leaves)
    if m == n:
        return [] if whole else [merkle.root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), merkle.root(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), merkle.root(leaves[:k])]


@st.composite
def grown_trees(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    """Leaf hashes and the batch sizes they were appended in."""
    n = draw(st.integers(min_value=1, max_value=200))
    salt = draw(st.binary(max_size=4))
    cuts = sorted(draw(st.sets(st.integers(min_value=0, max_value=n), max_size=8)) | {0, n})
    hashes = [merkle.leaf_hash(salt + i.to_bytes(2, "big")) for i in range(n)]
    return hashes, [b - a for a, b in pairwise(cuts)]


def grow(hashes: list[bytes], batches: list[int]) -> merkle.MemoryTree:
    tree = merkle.MemoryTree()
    for batch in batches:
        tree.extend(hashes[tree.size : tree.size + batch])
        assert tree.root() == merkle.root(hashes[: tree.size])
    return tree


@settings(max_examples=60, deadline=None)
@given(grown_trees())
def test_incremental_nodes_give_the_reference_root(grown: tuple[list[bytes], list[int]]) -> None:
    hashes, batches = grown
    tree = grow(hashes, batches)
    assert tree.size == len(hashes)
    assert tree.root() == merkle.root(hashes)
    # Exactly the perfect subtrees are stored: n >> level of them at each level.
    for level in range(len(hashes).bit_length()):
        stored = [key for key in tree.nodes.nodes if key[0] == level]
        assert len(stored) == len(hashes) >> level


@settings(max_examples=30, deadline=None)
@given(grown_trees(), st.data())
def test_every_inclusion_proof_verifies(
    grown: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    hashes, batches = grown
    tree = grow(hashes, batches)
    n = len(hashes)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    root = tree.root(size)
    for i in range(size):
        proof = tree.inclusion_proof(i, size)
        merkle.verify_inclusion(hashes[i], i, size, proof, root)
        wrong_leaf = merkle.leaf_hash(b"not in the tree")
        rejected(INCLUSION, merkle.verify_inclusion, wrong_leaf, i, size, proof, root)
    i = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    assert tree.inclusion_proof(i, size) == reference_path(i, hashes[:size])


@settings(max_examples=30, deadline=None)
@given(grown_trees(), st.data())
def test_every_consistency_proof_verifies(
    grown: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    hashes, batches = grown
    tree = grow(hashes, batches)
    n = len(hashes)
    new_root = tree.root()
    for m in range(1, n + 1):
        proof = tree.consistency_proof(m, n)
        merkle.verify_consistency(m, n, tree.root(m), new_root, proof)
    m = data.draw(st.integers(min_value=1, max_value=n), label="old size")
    proof = tree.consistency_proof(m, n)
    assert proof == reference_subproof(m, hashes, True)
    forked = merkle.root([merkle.leaf_hash(b"fork"), *hashes[1:m]])
    rejected(CONSISTENCY, merkle.verify_consistency, m, n, forked, new_root, proof)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=8), max_size=70))
def test_the_frontier_has_the_reference_root_at_every_size(inputs: list[bytes]) -> None:
    hashes = [merkle.leaf_hash(x) for x in inputs]
    frontier = merkle.Frontier()
    assert frontier.root() == merkle.EMPTY_ROOT
    for n, digest in enumerate(hashes, start=1):
        frontier.append(digest)
        assert frontier.size == n
        assert frontier.root() == merkle.root(hashes[:n])
        assert len(frontier._stack) == bin(n).count("1")  # O(log n) hashes, never the leaves


def test_the_frontier_matches_the_published_roots(
    leaves: list[bytes], roots: dict[int, bytes]
) -> None:
    frontier = merkle.Frontier()
    for n, digest in enumerate(leaves, start=1):
        frontier.append(digest)
        if n in roots:
            assert frontier.root() == roots[n]
