import pytest

from rnadesign.model.structure import (
    InvalidStructureError,
    InvalidTargetFileError,
    LongInteriorLoopWarning,
    ShortHairpinWarning,
    Structure,
    UnfoldableTargetWarning,
    outer_pairs,
    pair_table,
    parse_structure,
    read_targets,
)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("((((...)))", "unbalanced '(' at position 1", 1),
        ("((...)))", "unbalanced ')' at position 8", 8),
        ("((a))", "invalid character 'a' at position 3", 3),
        ("[[..]]", "invalid character '[' at position 1", 1),
        ("((.. ))", "invalid character ' ' at position 5", 5),
        ("", "empty structure", None),
        ("   \n", "empty structure", None),
        (")(", "unbalanced ')' at position 1", 1),
        ("..((...)).)", "unbalanced ')' at position 11", 11),
    ],
)
def test_malformed_targets_name_problem_and_position(text, message, position):
    with pytest.raises(InvalidStructureError) as info:
        parse_structure(text)
    assert message in str(info.value)
    assert info.value.position == position
    assert isinstance(info.value, ValueError)


def test_position_counts_leading_whitespace_the_user_typed():
    with pytest.raises(InvalidStructureError, match="position 5") as info:
        parse_structure("  ((x))")
    assert info.value.position == 5


def test_pair_table_and_counts():
    s = parse_structure("((.)).(..)", warn=False)
    assert s.pairs == (4, 3, -1, 1, 0, -1, 9, -1, -1, 6)
    assert pair_table("(.)") == (2, -1, 0)
    assert s.n_pairs == 3
    assert s.n_decisions == len(s) - 3 == 7
    assert s.decision_sites() == [0, 1, 2, 5, 6, 7, 8]
    assert outer_pairs(s.pairs) == [(0, 4), (6, 9)]
    assert outer_pairs(s.pairs, 1, 4) == [(1, 3)] and outer_pairs(s.pairs, 5, 6) == []
    assert str(s) == "((.)).(..)"


def test_all_unpaired_and_surrounding_whitespace():
    assert parse_structure(" .... \n").dot_bracket == "...."
    assert parse_structure("....").pairs == (-1, -1, -1, -1)


def test_structure_constructor_validates_too():
    with pytest.raises(InvalidStructureError):
        Structure("(()")


def test_short_hairpin_warns_but_parses():
    with pytest.warns(ShortHairpinWarning, match="position"):
        s = parse_structure("((((..))))")
    assert s.short_hairpins() == [4]
    assert parse_structure("(((...)))").short_hairpins() == []


def _interior_loop(left: int, right: int) -> str:
    return "(((((" + "." * left + "(((....)))" + "." * right + ")))))"


def test_long_interior_loop_warns_but_parses():
    assert parse_structure(_interior_loop(20, 10)).long_interior_loops() == []  # 30: the most ViennaRNA folds
    with pytest.warns(LongInteriorLoopWarning, match=r"position\(s\) 5 \(21 \+ 10 unpaired\)"):
        s = parse_structure(_interior_loop(21, 10))
    assert s.long_interior_loops() == [(5, 21, 10)]
    assert parse_structure(_interior_loop(31, 0), warn=False).long_interior_loops() == [(5, 31, 0)]  # a bulge
    # A multiloop may have any number of unpaired bases; a hairpin too.
    multiloop = "((" + "." * 40 + "(((...)))" + "((...))" + "))"
    assert parse_structure(multiloop + "(" + "." * 40 + ")").long_interior_loops() == []
    assert issubclass(LongInteriorLoopWarning, UnfoldableTargetWarning)
    assert issubclass(ShortHairpinWarning, UnfoldableTargetWarning)
    assert len(parse_structure("((..))" + _interior_loop(40, 0), warn=False).unfoldable_loops()) == 2


def test_non_string_rejected():
    with pytest.raises(InvalidStructureError, match="must be a string"):
        parse_structure(None)  # type: ignore[arg-type]


def test_read_targets_plain_and_fasta(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("# comment\n((((....))))\n\n>hairpin two\n(((...)))\n>bad\n((x))\n")
    targets = read_targets(path)
    assert [t.name for t in targets] == ["target_2", "hairpin two", "bad"]
    assert [t.text for t in targets] == ["((((....))))", "(((...)))", "((x))"]
    with pytest.raises(InvalidStructureError):
        targets[2].parse()


def test_read_targets_errors(tmp_path):
    with pytest.raises(InvalidTargetFileError, match="no such file"):
        read_targets(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(InvalidTargetFileError, match="no structures"):
        read_targets(empty)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00(")
    with pytest.raises(InvalidTargetFileError, match="not UTF-8 text"):
        read_targets(binary)
    with pytest.raises(InvalidTargetFileError, match="directory"):
        read_targets(tmp_path)


def test_interior_loops_are_single_branch_loops_with_unpaired_sites():
    target = Structure("(((..((...))..)))((.((...)))).(((...)))")
    # a 2 x 2 interior loop and a 5' bulge of 1; stacks, hairpins and the exterior loop are none
    assert target.interior_loops() == [(2, 14, 5, 11), (18, 27, 20, 26)]
    assert Structure("(" + "." * 16 + "((...))" + "." * 16 + ")").long_interior_loops() == [(1, 16, 16)]
