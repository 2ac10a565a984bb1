"""The hard-structure generator: valid, reproducible, length-bounded structures with the features it is
for (short stems, multiloops, bulges or interior loops), and clear errors for impossible settings."""

from pathlib import Path

import pytest

from rnadesign.errors import ConfigError
from rnadesign.model.generate import HardStructureGrammar, random_structures
from rnadesign.model.structure import pair_table, parse_structure


def _stems(structure: str) -> list[int]:
    """Lengths of maximal stacks of pairs (i, j), (i+1, j-1), ..."""
    table = pair_table(structure)
    lengths, seen = [], set()
    for i, j in enumerate(table):
        if j < i or i in seen:
            continue
        length = 0
        while i + length < len(table) and table[i + length] == j - length:
            seen.add(i + length)
            length += 1
        lengths.append(length)
    return lengths


def _branches(structure: str) -> list[int]:
    """For each pair, how many pairs lie directly inside it (two or more: it closes a multiloop)."""
    table = pair_table(structure)
    counts = []
    for i, j in enumerate(table):
        if j < i:
            continue
        branches, k = 0, i + 1
        while k < j:
            if table[k] > k:  # a branch: skip past its closing partner
                branches += 1
                k = table[k] + 1
            else:
                k += 1
        counts.append(branches)
    return counts


def test_structures_are_valid_distinct_bounded_and_reproducible():
    first = random_structures(100, seed=5, min_length=40, max_length=120)
    assert first == random_structures(100, seed=5, min_length=40, max_length=120)
    assert first != random_structures(100, seed=6, min_length=40, max_length=120)
    assert len(set(first)) == 100
    for s in first:
        assert 40 <= len(s) <= 120
        structure = parse_structure(s)
        assert structure.unfoldable_loops() == [], s  # no hairpin too short, no interior loop too long


def test_the_features_that_make_design_hard_are_common():
    structures = random_structures(100, seed=7, min_length=40, max_length=200)
    stems = [n for s in structures for n in _stems(s)]
    assert sum(n <= 3 for n in stems) / len(stems) > 0.3
    assert sum(b >= 3 for s in structures for b in _branches(s)) > 20  # multiloops of three branches or more
    interior = sum(len(parse_structure(s).interior_loops()) for s in structures)  # bulges and interior loops
    assert interior > 0.2 * len(stems)


@pytest.mark.parametrize(
    "kwargs",
    [dict(hairpin=(2, 5)), dict(stem=(0, 3)), dict(internal_loop=(0, 20)), dict(branches=(1, 3)), dict(multiloop=1.5)],
)
def test_impossible_grammars_are_refused(kwargs):
    with pytest.raises(ConfigError):
        HardStructureGrammar(**kwargs)


def test_impossible_lengths_are_refused_with_a_clear_error():
    with pytest.raises(ConfigError):
        random_structures(10, seed=0, min_length=100, max_length=50)
    grammar = HardStructureGrammar(exterior=(1, 1), stem=(1, 1), short_stem=0.0, hairpin_after=1.0, hairpin=(3, 3))
    with pytest.raises(ConfigError, match="kept only"):
        random_structures(2, seed=0, min_length=40, max_length=60, grammar=grammar, max_draws=200)


def test_hard_structures_script_leaves_out_the_proven_undesignable(tmp_path):
    """``scripts/hard_structures.py`` writes the count asked for, none of them proven undesignable, and the
    first structures it keeps are those a raw draw of the same seed holds without a proof."""
    import runpy

    from rnadesign.model.designability import undesignable

    script = runpy.run_path(str(Path(__file__).parent.parent / "scripts" / "hard_structures.py"))
    out = tmp_path / "hard.txt"
    assert script["main"]([str(out), "--count", "20", "--seed", "23", "--min-length", "40", "--max-length", "70"]) == 0
    kept = out.read_text(encoding="utf-8").split()
    assert len(kept) == 20
    assert not any(undesignable(parse_structure(s, warn=False)) for s in kept)
    raw = random_structures(20, seed=23, min_length=40, max_length=70)
    proven = [s for s in raw if undesignable(parse_structure(s, warn=False))]
    assert proven  # the seed draws some (else the test would not test the filter)
    assert kept[: 20 - len(proven)] == [s for s in raw if s not in proven]
