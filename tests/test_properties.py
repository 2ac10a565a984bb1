"""Arbitrary input reaches the parsers; only the project's own errors may come out (never a crash)."""

import contextlib
import json
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnadesign.config import AgentConfig
from rnadesign.errors import RnaDesignError
from rnadesign.files import read_json_lines
from rnadesign.model.structure import InvalidStructureError, parse_structure, read_targets

# Mostly structure-like text, with anything else mixed in.
structure_text = st.text(alphabet=st.sampled_from("..((()))[]x \t\n>#\ufeff\x00é"), max_size=60) | st.text(max_size=60)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(structure_text)
def test_the_structure_parser_accepts_or_names_the_problem(text):
    try:
        structure = parse_structure(text, warn=False)
    except InvalidStructureError as err:
        assert str(err)
        if err.position is not None:
            assert 1 <= err.position <= len(text)
        return
    assert set(structure.dot_bracket) <= set(".()") and structure.dot_bracket == text.strip()
    for i, j in enumerate(structure.pairs):
        assert j == -1 or structure.pairs[j] == i


@SETTINGS
@given(st.binary(max_size=200) | structure_text.map(lambda t: t.encode("utf-8")))
def test_the_input_file_reader_reads_or_refuses_the_file(tmp_path, data):
    path = tmp_path / "targets.txt"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # headers without a structure are warned about
        try:
            targets = read_targets(path)
        except RnaDesignError:
            return
    assert targets
    for target in targets:
        assert target.name and target.text.strip() == target.text and not target.text.startswith((">", "#"))
        with contextlib.suppress(InvalidStructureError):  # a bad structure is the parser's business, tested above
            target.parse(warn=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
sections = st.sampled_from(["env", "network", "ppo", "name", "other"])
fields = st.sampled_from(["state_radius", "n_envs", "learning_rate", "include_sequence", "fc_units", "x"])
configs = st.dictionaries(sections, st.dictionaries(fields, json_values, max_size=3) | json_values, max_size=3)


@SETTINGS
@given(configs | json_values)
def test_an_agent_configuration_is_built_or_refused_with_a_reason(data):
    try:
        agent = AgentConfig.from_dict(data, name="config.json")
    except RnaDesignError as err:
        assert str(err)
        return
    assert AgentConfig.from_dict(agent.to_dict()) == agent


@SETTINGS
@given(st.binary(max_size=120))
def test_json_lines_are_read_or_the_damage_named(tmp_path, data):
    path = tmp_path / "log.jsonl"
    path.write_bytes(data)
    try:
        values = read_json_lines(path)
    except RnaDesignError as err:
        assert str(path) in str(err) and "line" in str(err)
        return
    for value in values:
        json.dumps(value)


# A benchmark record as the runner writes it; the property test below breaks it in every way JSON allows.
_RECORD = {
    "dataset": "three",
    "target_id": "1",
    "target": "((((....))))",
    "run": 0,
    "method": "search",
    "seed": 1,
    "time_limit": 3,
    "series": "abc",
    "target_constraint": None,
    "folding": {"energy_parameters": "turner2004", "dangles": 2, "temperature": 37.0},
    "solved": True,
    "solved_unique": True,
    "distance": 0,
    "time_s": 0.5,
    "sequence": "GGGGAAACCCCC",
    "structure": "((((....))))",
    "status": "solved",
}
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_any = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
)
broken_records = st.builds(
    lambda drop, changes: {**{k: v for k, v in _RECORD.items() if k not in drop}, **changes},
    st.sets(st.sampled_from(sorted(_RECORD))),
    st.dictionaries(st.sampled_from(sorted(_RECORD)), json_any, max_size=3),
) | st.dictionaries(st.text(max_size=10), json_any, max_size=6)


@SETTINGS
@given(st.lists(broken_records, min_size=1, max_size=3))
def test_every_reader_of_benchmark_results_gives_a_result_or_names_file_line_and_field(tmp_path, values):
    """Any JSON objects as lines of results.jsonl: the records read, summarised and turned into rows of the
    test, or one error naming the file, the line and the field (issue 28, defect 1)."""
    from rnadesign.benchmark.spec import read_results
    from rnadesign.benchmark.stats import benchmark_rows
    from rnadesign.benchmark.summary import summarize, table
    from rnadesign.files import CorruptFileError

    out = tmp_path / "D"
    out.mkdir(exist_ok=True)
    path = out / "results.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values))
    try:
        records = read_results(out)
    except CorruptFileError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(f"{path}: line ")
        assert "field" in message or "recorded twice" in message
        return
    summary = summarize(records, dataset="three", method="search", time_limit=3, n_targets=1, runs=1, config=None)
    assert table(summary)
    with contextlib.suppress(RnaDesignError):  # e.g. records of two datasets: refused in one line
        benchmark_rows([out])
