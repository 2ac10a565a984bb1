"""Proofs of undesignability: checked against ViennaRNA's own evaluation on sequences the proof never saw."""

import numpy as np
import pytest
import RNA

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.model.alphabet import PAIRS
from rnadesign.model.designability import (
    bulged_lone_pairs,
    gc_sequence,
    helices,
    helix_bound,
    helix_difference,
    helix_units,
    lone_pair_bound,
    losing_helices,
    undesignable,
    without_helix,
)
from rnadesign.model.folding import FoldingModel, energies, fold, hamming, structures_at_mfe
from rnadesign.model.fragile import motif_locks, motif_witness, tight_junction
from rnadesign.model.structure import parse_structure


def _taneda(target_id: str):
    entry = next(t for t in load_dataset("rfam-taneda").targets if t.name == target_id)
    return parse_structure(entry.text, warn=False)


def _random_design(target, rng) -> str:
    letters = list(rng.choice(list("ACGU"), size=len(target)))
    for i, j in enumerate(target.pairs):
        if i < j:
            letters[i], letters[j] = PAIRS[rng.integers(len(PAIRS))]
    return "".join(letters)


def test_taneda_20_ends_in_a_lone_pair_that_always_loses():
    target = _taneda("20")
    assert bulged_lone_pairs(target) == [(98, 118, (100, 117), 99)]
    reasons = undesignable(target)
    assert len(reasons) == 1 and "99-119" in reasons[0] and "0.60 kcal/mol" in reasons[0]
    # The bound holds on sequences it never enumerated: ViennaRNA's own evaluation of random designs.
    without = target.dot_bracket[:98] + "." + target.dot_bracket[99:118] + "."
    rng = np.random.default_rng(3)
    for _ in range(60):
        fc = RNA.fold_compound(_random_design(target, rng))
        assert fc.eval_structure(target.dot_bracket) - fc.eval_structure(without) >= 0.6 - 1e-6
        structure, _ = fc.mfe()
        assert structure != target.dot_bracket


def test_a_lone_pair_that_can_win_is_no_proof():
    target = _taneda("10")  # two such pairs in multiloops; designable as far as anyone knows
    motifs = bulged_lone_pairs(target)
    assert [(a + 1, b + 1) for a, b, _, _ in motifs] == [(86, 100), (184, 207)]
    bound, witness = lone_pair_bound("A" * len(target), target, motifs[0])
    assert bound < 0
    # The witness keeps every target pair canonical, and the target beats the structure without the pair.
    fc = RNA.fold_compound(witness)
    without = list(target.dot_bracket)
    without[85] = without[99] = "."
    assert fc.eval_structure(target.dot_bracket) - fc.eval_structure("".join(without)) == bound
    assert undesignable(target) == []


def test_loops_viennarna_cannot_form_are_proofs_and_the_fold_agrees():
    for target_id in ("16", "23"):
        target = _taneda(target_id)
        reasons = undesignable(target)
        assert len(reasons) == 1 and "more than ViennaRNA's 30" in reasons[0]
        assert undesignable(target, loops=False) == []
        structure, _ = fold(_random_design(target, np.random.default_rng(1)))
        assert hamming(structure, target.dot_bracket) > 0


def test_no_lone_pair_proof_under_dangles_that_reach_further():
    assert undesignable(_taneda("20"), FoldingModel(dangles=1)) == []
    assert undesignable(_taneda("20"), FoldingModel(dangles=3)) == []


def test_a_lone_pair_in_an_interior_loop_is_not_claimed():
    # (a, b) is the only branch of the pair around it: removing it changes that interior loop as well.
    target = parse_structure("((((...(.((((....)))))...))))")
    assert bulged_lone_pairs(target) == []


def test_a_two_pair_stem_around_a_triloop_in_the_exterior_loop_always_loses():
    target = parse_structure(".....(((((.....)))))....((...))....")
    assert helices(target) == [(5, 19, 9, 15), (24, 30, 25, 29)]
    assert losing_helices(target) == [((24, 30, 25, 29), pytest.approx(0.4, abs=1e-6))]
    reasons = undesignable(target)
    assert len(reasons) == 1 and "helix 25-31 to 26-30" in reasons[0] and "0.40 kcal/mol" in reasons[0]
    # The bound holds on sequences it never enumerated (ViennaRNA's own evaluation), and no fold builds it.
    without = without_helix(target, (24, 30, 25, 29))
    rng = np.random.default_rng(4)
    for _ in range(200):
        fc = RNA.fold_compound(_random_design(target, rng))
        assert fc.eval_structure(target.dot_bracket) - fc.eval_structure(without) >= 0.4 - 1e-4
        assert fc.mfe()[0] != target.dot_bracket


def test_a_helix_bound_holds_on_designs_it_never_enumerated():
    """A proof's bound is the least difference over the bases the difference depends on: on random designs
    (every base drawn) ViennaRNA's own difference is never below it. Here the losing stems sit at the
    molecule's 5' end and between two branches whose bases are their dangles (a paired neighbour, the case
    that needs its partner enumerated too)."""
    target = parse_structure("((...))(((((....)))))...((...))((((....))))")
    proofs = losing_helices(target)
    assert [helix for helix, _ in proofs] == [(0, 6, 1, 5), (24, 30, 25, 29)]
    rng = np.random.default_rng(5)
    for helix, bound in proofs:
        without = without_helix(target, helix)
        for _ in range(100):
            fc = RNA.fold_compound(_random_design(target, rng))
            assert fc.eval_structure(target.dot_bracket) - fc.eval_structure(without) >= bound - 1e-4, helix


def test_a_helix_that_can_win_is_no_proof_and_its_witness_wins():
    target = parse_structure("..((((.......((....))...))))....")
    helix = (13, 20, 14, 19)  # two pairs around a tetraloop inside an interior loop: GC pairs can hold it
    bound, witness = helix_bound("A" * len(target), target, helix)
    assert bound <= 0 and losing_helices(target) == []
    fc = RNA.fold_compound(witness)
    difference = fc.eval_structure(target.dot_bracket) - fc.eval_structure(without_helix(target, helix))
    assert difference == pytest.approx(bound)


def test_a_helix_with_too_many_assignments_gives_no_proof():
    target = parse_structure(".....(((((.....)))))....((...))....")
    assert helix_bound("A" * len(target), target, (24, 30, 25, 29), limit=10) is None
    assert losing_helices(target, limit=10) == []
    assert losing_helices(target, FoldingModel(dangles=1)) == []


def _puzzle_rows() -> list[dict[str, str]]:
    import csv
    import os

    path = os.path.join(os.path.dirname(__file__), os.pardir, "data", "eterna100_puzzles.tsv")
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_a_helix_whose_removal_leaves_a_loop_the_fold_cannot_form_is_no_proof():
    """Removing the lone pair 14-44 (around a hairpin of 29) merges it into a bulge of 31 bases, which
    ViennaRNA's fold never forms: that structure's lower energy proves nothing. With a hairpin of 28 the
    bulge has 30 bases and the same pair is a proof."""
    for size, proof in ((29, False), (28, True)):
        target = parse_structure("(" + "((((....))))" + "(" + "." * size + ")" + ")")
        helix = (13, 14 + size, 13, 14 + size)
        without = without_helix(target, helix)
        fc = RNA.fold_compound(gc_sequence(target))
        assert fc.eval_structure(target.dot_bracket) > fc.eval_structure(without)  # lower, formable or not
        assert bool(parse_structure(without, warn=False).unfoldable_loops()) is not proof
        found = helix_bound(gc_sequence(target), target, helix)
        assert (found is not None and found[0] > 0) is proof
        assert (helix in [h for h, _ in losing_helices(target)]) is proof


def test_eterna100_v1_proofs_fall_on_puzzles_eterna_could_not_solve_under_vienna_2():
    """The V2 set changed the V1 puzzles that nobody solved under Vienna 2 (their "V1/Vienna2" sample is
    "(Unsolved)"). Every V1 proof falls among those: #52, #57, #86 and #87 each lose a two-pair helix
    between two multiloops (or closing one from the exterior loop), whose removal saves a multiloop's
    initiation; #86, #90, #91 and #99 lone pairs around tri- or tetraloops."""
    rows = {row["Puzzle #"]: row for row in _puzzle_rows()}
    proven = {}
    for entry in load_dataset("eterna100-v1").targets:
        target = parse_structure(entry.text, warn=False)
        if undesignable(target):
            proven[entry.name] = [(i + 1, j + 1) for (i, j, _, _), _ in losing_helices(target)]
            assert rows[entry.name]["Sample Solution (V1/Vienna2)"].strip() == "(Unsolved)", entry.name
    expected = {
        "52": [(26, 67)],
        "57": [(1, 36)],
        "86": [(108, 112), (126, 193), (202, 206)],
        "87": [(44, 77)],
        "90": [(1, 6), (395, 400)],
        "91": [(295, 300)],
        "99": [(143, 148)],
    }
    assert proven == expected


def test_taneda_11s_two_pair_helix_between_two_multiloops_always_loses():
    """Rfam-Taneda #11's helix 128-231 to 129-230 joins the four-way junction around its bulged lone pair to
    a three-way multiloop: without it the two multiloops merge, and on every sequence that is at least
    0.9 kcal/mol lower. The difference depends on eight bases: the helix's four and the four beside it."""
    target = _taneda("11")
    helix = (127, 230, 128, 229)
    assert helix_units(target, helix) == ([(127, 230), (128, 229)], [126, 129, 228, 231], [])
    reasons = undesignable(target)
    assert len(reasons) == 1 and "helix 128-231 to 129-230" in reasons[0] and "0.90 kcal/mol" in reasons[0]
    without = without_helix(target, helix)
    rng = np.random.default_rng(11)
    for _ in range(200):  # ViennaRNA's own evaluation of designs the proof never enumerated
        fc = RNA.fold_compound(_random_design(target, rng))
        assert fc.eval_structure(target.dot_bracket) - fc.eval_structure(without) >= 0.9 - 1e-4


def test_a_helix_difference_depends_only_on_its_units_and_the_player_threads_71s_needle():
    """Eterna100-V2 #71's outer two-pair helix (5-75, 6-74) wins against its removal only narrowly: the
    player's Vienna 2 solution by 0.1 kcal/mol. Its nine units taken from the player's sequence into our
    GC-paired, A-loop sequence give exactly the player's own difference (nothing else matters), and
    ViennaRNA's evaluation of the player's whole sequence agrees."""
    target = parse_structure(next(t.text for t in load_dataset("eterna100-v2").targets if t.name == "71"))
    player = next(r for r in _puzzle_rows() if r["Puzzle #"] == "71")["Sample Solution (V2/Vienna2)"].strip()
    helix = helices(target)[0]
    assert helix == (4, 74, 5, 73)
    units, free, hairpin = helix_units(target, helix)
    assert units == [(4, 74), (5, 73), (10, 63)] and free == [3, 6, 9, 64, 72, 75] and hairpin == []
    choices, difference = helix_difference(gc_sequence(target), target, helix)
    assert len(choices) == 9
    players = tuple(player[a] + player[b] for a, b in units) + tuple(player[site] for site in free)
    value, sequence = difference(players)
    fc = RNA.fold_compound(player)
    expected = fc.eval_structure(target.dot_bracket) - fc.eval_structure(without_helix(target, helix))
    assert value == pytest.approx(expected, abs=1e-4) and value == pytest.approx(-0.1, abs=1e-4)
    assert sequence != player and RNA.fold(player)[0] == target.dot_bracket


def test_every_disclosed_eterna100_v2_player_solution_folds_into_its_puzzle():
    """#68 and #99 are designable (no published algorithm has solved them; players have): every V2 puzzle
    whose Vienna 2 player solution is disclosed refolds to it under our ViennaRNA, and none is proven
    undesignable (a proof against a known solution would be a wrong proof). #100's solution is withheld by
    the Eterna team."""
    rows = _puzzle_rows()
    puzzles = {t.name: t.text for t in load_dataset("eterna100-v2").targets}
    disclosed = {}
    for row in rows:
        solution = row["Sample Solution (V2/Vienna2)"].strip()
        if set(solution) <= set("ACGU") and solution:
            disclosed[row["Puzzle #"]] = solution
    assert len(disclosed) == 99 and "100" not in disclosed
    for number, solution in disclosed.items():
        target = puzzles[number]
        assert target == rows[int(number) - 1]["Secondary Structure V2"].strip(), number
        assert RNA.fold(solution)[0] == target, number
    for number in disclosed:
        assert not undesignable(parse_structure(puzzles[number], warn=False)), number


def test_eterna100_v2_solutions_reads_the_shipped_table_as_the_benchmark_has_it():
    from rnadesign.benchmark.datasets import eterna100_v2_solutions

    solutions = eterna100_v2_solutions()
    puzzles = {t.name: t.text for t in load_dataset("eterna100-v2").targets}
    assert {n: structure for n, (structure, _) in solutions.items()} == puzzles
    assert solutions["100"][1] is None and sum(s is not None for _, s in solutions.values()) == 99
    rows = {row["Puzzle #"]: row for row in _puzzle_rows()}
    assert solutions["71"][1] == rows["71"]["Sample Solution (V2/Vienna2)"].strip()


def test_the_only_known_solutions_of_68_90_and_99_win_by_the_tie_break():
    """No published algorithm had solved Eterna100-V2 #68, #90 or #99; their disclosed Vienna 2 player solutions
    fold into them only because ViennaRNA's backtracking picks the target among structures of equal free
    energy (16, 256 and 2 of them). Not a proof that nothing better exists: a count of what the players did."""
    rows = {row["Puzzle #"]: row for row in _puzzle_rows()}
    for number, ties in (("68", 16), ("90", 256), ("99", 2)):
        solution, target = (
            rows[number][key].strip() for key in ("Sample Solution (V2/Vienna2)", "Secondary Structure V2")
        )
        at_mfe = structures_at_mfe(solution)
        assert len(at_mfe) == ties and target in at_mfe and RNA.fold(solution)[0] == target, number
        evaluate = RNA.fold_compound(solution).eval_structure
        assert {round(evaluate(s), 2) for s in at_mfe} == {round(RNA.fold(solution)[1], 2)}, number


def test_our_kept_designs_fold_into_their_puzzles_with_a_unique_mfe():
    """``data/eterna100_v2_designs.tsv`` keeps the designs the README reports as firsts (#86 at 600 s):
    each folds into its Eterna100-V2 puzzle, and no other structure has the same free energy."""
    import os

    path = os.path.join(os.path.dirname(__file__), os.pardir, "data", "eterna100_v2_designs.tsv")
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    header, rows = lines[0], [dict(zip(lines[0], line)) for line in lines[1:]]
    assert header[:2] == ["puzzle", "sequence"] and rows
    puzzles = {t.name: t.text for t in load_dataset("eterna100-v2").targets}
    md = RNA.md()
    md.uniq_ML = 1  # suboptimal enumeration needs it
    for row in rows:
        fc = RNA.fold_compound(row["sequence"], md)
        structure, _ = fc.mfe()
        assert structure == puzzles[row["puzzle"]], row["puzzle"]
        assert [s.structure for s in fc.subopt(0)] == [structure], row["puzzle"]  # the MFE is unique


def _swapped(target, remove, add) -> str:
    letters = list(target.dot_bracket)
    for i, j in remove:
        letters[i] = letters[j] = "."
    for i, j in add:
        letters[i], letters[j] = "(", ")"
    return "".join(letters)


def test_taneda_11s_lone_pair_witness_beats_the_pair_dropped_and_both_partner_swaps():
    target = _taneda("11")
    [motif] = bulged_lone_pairs(target)
    assert motif == (104, 126, (105, 124), 125)
    junction = tight_junction(target, motif)
    assert junction == ((81, 231), (82, 103), (127, 230))
    margin, bases = motif_witness(target, motif)
    assert margin < 0
    (p0, b1, b3), (a, b) = junction, motif[:2]
    decoys = [
        (_swapped(target, [(a, b)], []), []),
        (_swapped(target, [p0, (a, b)], [(p0[0], a), (b, p0[1])]), [(p0[0], a), (b, p0[1])]),
        (_swapped(target, [b1, b3], [(b1[0], b3[1]), (b1[1], b3[0])]), [(b1[0], b3[1]), (b1[1], b3[0])]),
    ]
    # On designs the witness never saw (random bases elsewhere, every target pair canonical), the target
    # still beats every decoy that can form, by the witness's margin where the energy is local to the units.
    rng = np.random.default_rng(11)
    for _ in range(5):
        letters = list(_random_design(target, rng))
        for site, base in bases.items():
            letters[site] = base
        sequence = "".join(letters)
        on_target, *on_decoys = energies(sequence, [target.dot_bracket] + [d for d, _ in decoys])
        assert on_target - on_decoys[0] == pytest.approx(margin, abs=0.02)  # the pair dropped: units only
        for (_, new), energy in zip(decoys[1:], on_decoys[1:]):
            assert sequence[new[0][0]] + sequence[new[0][1]] not in PAIRS or on_target < energy


def test_motif_locks_fix_only_the_motifs_units_within_a_sequence_constraint():
    target = _taneda("10")
    pattern, margins = motif_locks(target)
    assert len(margins) == 2 and max(margins) < 0
    fixed = {k for k, c in enumerate(pattern) if c != "N"}
    assert {85, 99, 86, 97, 98, 183, 206} <= fixed and len(fixed) < 25
    assert tight_junction(target, bulged_lone_pairs(target)[1]) is None
    # Under a constraint that allows only G or C at the first motif's pair, the witness keeps to it.
    allowed = tuple("GC" if k in (85, 99) else "ACGU" for k in range(len(target)))
    constrained, _ = motif_locks(target, allowed=allowed)
    assert {constrained[85], constrained[99]} <= set("GC")
    assert motif_locks(_taneda("20")) is None  # its lone pair always loses: no witness
    assert motif_locks(parse_structure("((((....))))")) is None  # no such motif
