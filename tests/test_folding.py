"""Golden values: ViennaRNA's own test oracles and Eterna100 player solutions for ViennaRNA 2."""

import pytest
import RNA

from rnadesign.model.folding import (
    FoldingModel,
    InvalidSequenceError,
    fold,
    hamming,
    is_solved,
    is_unique_mfe,
    structures_at_mfe,
    vienna_version,
)
from rnadesign.model.metrics import check_design

# From ViennaRNA's tests/python/test_RNA.py.
SEQ1, STRUCT1 = "CGCAGGGAUACCCGCG", "(((.(((...))))))"
SEQ2, STRUCT2 = "GCGCCCAUAGGGACGC", "((((((...))).)))"

# Eterna100-V2 puzzles 1 and 3 with their "V2/Vienna2" sample player solutions.
ETERNA1 = ("CAGGGGAAAAACUCUG", "(((((......)))))")
ETERNA3 = ("GCCCUCAGAUGGAAACGUCGAGAGGCAAAAAAAAAA", "((((((.((((....))))))).)))..........")


def test_golden_mfe_structures_and_energies():
    assert fold(SEQ1) == (STRUCT1, pytest.approx(-5.6, abs=1e-4))
    assert fold(SEQ2) == (STRUCT2, pytest.approx(-6.6, abs=1e-4))
    assert fold(ETERNA3[0]) == (ETERNA3[1], pytest.approx(-13.1, abs=1e-4))


def test_energy_models_switch_and_switch_back():
    assert fold(SEQ1, FoldingModel("turner1999"))[0] == "(((.((....)).)))"
    assert fold(SEQ1, FoldingModel(temperature=70))[1] == pytest.approx(-0.75, abs=1e-4)
    # The process-wide parameter set must come back for the default model.
    assert fold(SEQ1) == (STRUCT1, pytest.approx(-5.6, abs=1e-4))
    for name in ("andronescu2007", "langdon2018"):
        structure, energy = fold(SEQ1, FoldingModel(name))
        assert len(structure) == len(SEQ1) and energy < 0
    assert fold(SEQ1)[0] == STRUCT1


def test_model_validation():
    with pytest.raises(ValueError, match="unknown energy parameter set"):
        FoldingModel("turner2077")
    with pytest.raises(ValueError, match="dangles"):
        FoldingModel(dangles=5)


def test_hamming():
    assert hamming(STRUCT1, STRUCT2) == 4  # positions 4, 7, 10 and 13
    assert hamming(STRUCT1, STRUCT1) == 0
    with pytest.raises(ValueError, match="lengths"):
        hamming("((..))", "..")


def test_is_solved_and_unique():
    assert is_solved(*ETERNA1)
    assert is_unique_mfe(*ETERNA1)
    assert not is_solved(SEQ1, STRUCT2)
    assert not is_solved(SEQ1, "................")
    assert not is_solved("GGGG", STRUCT1)  # wrong length is not solved


def test_unique_mfe_detects_ties():
    # Three hairpins share the MFE of this sequence (-0.2 kcal/mol): solved, but not uniquely.
    seq, mfe_structure = "GCAAGCUCCCGCCCGGUACA", "....((....))........"
    assert fold(seq)[0] == mfe_structure
    assert is_solved(seq, mfe_structure)
    assert not is_unique_mfe(seq, mfe_structure)
    assert not is_unique_mfe(seq, "((........))........")  # a tied structure, but not the MFE reported
    assert is_unique_mfe("AAAAAAAAAA", "..........")
    # All three, each at the MFE by ViennaRNA's own evaluation; fold returned the middle one by its backtracking.
    tied = structures_at_mfe(seq)
    assert sorted(tied) == ["((........))........", "....((....))........", "........((....))...."]
    evaluate = RNA.fold_compound(seq).eval_structure
    assert all(evaluate(s) == pytest.approx(fold(seq)[1], abs=1e-4) for s in tied)
    assert structures_at_mfe("AAAAAAAAAA") == [".........."]


def test_check_design():
    check = check_design(ETERNA3[0], ETERNA3[1], unique=True)
    assert check.solved and check.distance == 0 and check.unique
    miss = check_design(SEQ1, STRUCT2)
    assert not miss.solved and miss.distance == 4 and miss.structure == STRUCT1 and miss.unique is None


def test_bad_sequences():
    with pytest.raises(InvalidSequenceError, match="'T' at position 3"):
        fold("ACTG")
    with pytest.raises(InvalidSequenceError, match="empty"):
        fold("")


def test_version_recorded():
    assert vienna_version().count(".") >= 1


def test_interior_loop_limit_is_viennas():
    """structure.MAX_INTERIOR_LOOP is ViennaRNA's: with every target pair enforced, the fold forms an
    interior loop of 30 unpaired bases and refuses one of 31, whatever the sequence."""
    import RNA

    from rnadesign.model.structure import MAX_INTERIOR_LOOP

    assert RNA.MAXLOOP == MAX_INTERIOR_LOOP
    for left, fits in ((20, True), (21, False)):
        target = "(((((" + "." * left + "(((....)))" + "." * 10 + ")))))"
        sequence = "GGGGG" + "A" * left + "GGGAAAACCC" + "A" * 10 + "CCCCC"
        fc = RNA.fold_compound(sequence)
        fc.hc_add_from_db(target, RNA.CONSTRAINT_DB_ENFORCE_BP | RNA.CONSTRAINT_DB_DEFAULT)
        structure, _ = fc.mfe()
        assert (structure == target) == fits
