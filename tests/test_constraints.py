"""Design constraints: IUPAC sequence masks, GC windows, forbidden motifs and --no-gu, in every mode.

Every design a test accepts is folded again with ViennaRNA itself (``RNA.fold``) and checked against
its constraints by this file's own oracle (:func:`independent_violations`), not by rnadesign's.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import RNA

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.benchmark.runner import run_benchmark
from rnadesign.benchmark.spec import BenchmarkSpec, read_results
from rnadesign.config import EnvConfig
from rnadesign.design import DesignSettings, design
from rnadesign.model.constraints import ConstraintError, DesignConstraints, intersect_patterns
from rnadesign.model.structure import Structure, read_targets
from rnadesign.rl.env import RnaDesignEnv, local_improvement
from rnadesign.run.state import DesignRun

# The IUPAC codes by their definitions (B, D, H, V: "not A", "not C", "not G", "not U"), written apart
# from rnadesign's table so that the oracle does not share its mistakes.
CODES = dict(zip("ACGUTRYSWKMN", ["A", "C", "G", "U", "U", "AG", "CU", "CG", "AU", "GU", "AC", "ACGU"]))
CODES.update({code: "ACGU".replace(missing, "") for code, missing in zip("BDHV", "ACGU")})
PAIRING = {"GC", "CG", "AU", "UA", "GU", "UG"}


def independent_violations(sequence, target, *, sequence_constraint=None, gc=None, avoid=(), allow_gu=True):
    """This test's own check of a design (not rnadesign's): what it breaks, as short strings."""
    problems = []
    if sequence_constraint is not None:
        mask = sequence_constraint.upper()
        if mask.endswith("*"):
            mask = mask[:-1] + "N" * (len(target) - len(mask) + 1)
        problems += [f"mask@{i + 1}" for i, (b, c) in enumerate(zip(sequence, mask)) if b not in CODES[c]]
    stack = []
    for i, c in enumerate(target):
        if c == "(":
            stack.append(i)
        elif c == ")":
            j = stack.pop()
            pair = sequence[j] + sequence[i]
            if pair not in PAIRING or (not allow_gu and pair in ("GU", "UG")):
                problems.append(f"pair@{j + 1}-{i + 1}:{pair}")
    if gc is not None:
        content, tolerance = gc
        fraction = sum(b in "GC" for b in sequence) / len(sequence)
        if abs(fraction - content) > tolerance + 1e-9:
            problems.append(f"gc:{fraction:.3f}")
    for motif in avoid:
        regex = "(?=" + "".join(f"[{CODES[c]}]" for c in motif) + ")"
        problems += [f"motif:{motif}@{m.start() + 1}" for m in re.finditer(regex, sequence)]
    return problems


# -- validation: impossible constraints name their position --------------------------------------


@pytest.mark.parametrize(
    ("constraints", "target", "words", "position"),
    [
        ({"sequence": "NNXN*"}, "((((....))))", ["invalid letter 'X'", "position 3"], 3),
        ({"sequence": "NN*N"}, "((((....))))", ["'*'", "position 3"], 3),
        ({"sequence": "N" * 11}, "((((....))))", ["11 letters", "12 positions", "position 12"], 12),
        ({"sequence": "N" * 13}, "((((....))))", ["13 letters", "12 positions", "position 13"], 13),
        ({"sequence": "G" * 14 + "*"}, "((((....))))", ["fixes 14 letters", "12 positions"], 13),
        ({"sequence": "ANNNNNNNNNNA"}, "((((....))))", ["positions 1 and 12", "cannot pair"], 1),
        ({"sequence": "NGNNNNNNNNUN", "allow_gu": False}, "((((....))))", ["2 and 11", "G-U", "--no-gu"], 2),
        ({"sequence": "NNNNGGGGNNNN", "avoid": ("GGGG",)}, "((((....))))", ["GGGG", "positions 5-8"], 5),
        ({"sequence": "NNNNGRGGNNNN", "avoid": ("GNGG",)}, "((((....))))", ["GNGG", "positions 5-8"], 5),
        ({"gc_content": 0.9, "gc_tolerance": 0.0}, "((((....))))", ["no 12-nt sequence"], None),
        # Pairs without G-U are worth 0 or 2 G/C, and the loop is fixed to A: only even counts exist.
        (
            {"sequence": "NNNAAANNN", "gc_content": 1 / 3, "gc_tolerance": 0.0, "allow_gu": False},
            "(((...)))",
            ["needs 3 G or C", "only 0, 2, 4 or 6"],
            None,
        ),
        ({"sequence": "WWWW*", "gc_content": 0.9}, "((((....))))", ["11 G or C", "only 0-8"], None),
        (
            {"sequence": "WWWW*", "gc_content": 0.9, "gc_tolerance": 0.05, "allow_gu": False},
            "((((....))))",
            ["only 0-4"],
            None,
        ),
    ],
)
def test_impossible_constraints_name_the_position(constraints, target, words, position):
    with pytest.raises(ConstraintError) as caught:
        DesignConstraints(**constraints).bind(Structure(target))
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    assert caught.value.position == position


def test_letters_are_iupac_case_insensitive_t_is_u_and_prefixes_expand():
    bound = DesignConstraints(sequence="gTr*").bind(Structure("((((....))))"))
    assert bound.allowed[:3] == ("G", "U", "AG")
    # The partners of those sites take only what pairs with them (G-U allowed by default).
    assert bound.pair_options[(0, 11)] == ("GC", "GU")
    assert bound.pair_options[(1, 10)] == ("UA", "UG")
    assert set(bound.allowed[11]) == {"C", "U"}
    no_gu = DesignConstraints(sequence="GURNNNNNNUNN", allow_gu=False).bind(Structure("((((....))))"))
    assert no_gu.pair_options[(0, 11)] == ("GC",) and no_gu.pair_options[(2, 9)] == ("AU",)
    assert no_gu.allowed[2] == "A"  # R, but a G there could pair with the U at 10 only as G-U
    assert intersect_patterns("GGG*", "NNNNNNNNNNNU") == "GGGNNNNNNNNU"
    assert intersect_patterns("GGG*", "RNNNA*") == "GGGNA*"
    with pytest.raises(ConstraintError, match="no common base at position 2"):
        intersect_patterns("GGG*", "NCN*")


def test_bad_option_values():
    for kwargs, match in [
        ({"gc_content": 1.5}, "gc_content"),
        ({"gc_content": 0.5, "gc_tolerance": -0.1}, "gc_tolerance"),
        ({"avoid": ("GG X",)}, "invalid letter ' ' at position 3"),
        ({"avoid": ("",)}, "empty"),
        ({"sequence": "  "}, "empty"),
    ]:
        with pytest.raises(ConstraintError, match=match):
            DesignConstraints(**kwargs)
    assert not DesignConstraints().active
    assert DesignConstraints(allow_gu=False).active


def test_violations_are_readable_and_one_based():
    target = Structure("((((....))))")
    bound = DesignConstraints(sequence="GGN*", gc_content=0.5, gc_tolerance=0.05, avoid=("AAAA",), allow_gu=False).bind(
        target
    )
    assert bound.violations("GGGCAUAAGCCC") == ["GC content 0.667 is outside 0.50 +- 0.05"]
    problems = bound.violations("AGGUAAAAGCCU")
    assert "position 1 is A, the constraint allows G (G)" in problems
    assert "positions 4 and 9 pair as U-G (--no-gu)" in problems
    assert "forbidden motif AAAA at positions 5-8" in problems
    assert not bound.satisfied("AGGUAAAAGCCU")
    good = "GGAUACGAAUCC"
    assert independent_violations(good, str(target), sequence_constraint="GGN*", gc=(0.5, 0.05), avoid=["AAAA"]) == []
    assert bound.violations(good) == [] and bound.satisfied(good)


@pytest.mark.parametrize("seed", range(6))
def test_project_and_repair_keep_pairs_and_reach_the_window(seed):
    target = Structure("((((((....))))))...((((((.....))))))....")
    spec = dict(sequence="GGGNNNNNNNNNNNNNSSNNNNNNNNNNNNNNNNNNNNNN", gc=(0.4, 0.05), avoid=("GGGG", "AAAAA", "CCCC"))
    constraints = DesignConstraints(
        sequence=spec["sequence"], gc_content=0.4, gc_tolerance=0.05, avoid=spec["avoid"], allow_gu=False
    )
    bound = constraints.bind(target)
    rng = np.random.default_rng(seed)
    raw = "".join(rng.choice(list("ACGU"), size=len(target)))
    projected = bound.project(raw)
    assert all(b in a for b, a in zip(projected, bound.allowed))
    repaired = bound.repair(projected, rng)
    assert independent_violations(repaired, str(target), sequence_constraint=spec["sequence"], **_rest(spec)) == []
    assert bound.satisfied(repaired)


def _rest(spec):
    return {"gc": spec["gc"], "avoid": spec["avoid"], "allow_gu": False}


# -- the environment and the policy's sampler ---------------------------------------------------


def test_env_masks_actions_maps_disallowed_ones_and_places_wobbles_where_only_they_fit():
    target = Structure("((((....))))")
    # Site 1 pairs with site 12 only as G-U or U-G (K with K); site 5 is a loop base fixed to C.
    bound = DesignConstraints(sequence="KNNNCNNNNNNK").bind(target)
    env = RnaDesignEnv([target], EnvConfig(state_radius=2, mutation_threshold=0), constraints=bound)
    env.reset(seed=0)
    assert env.action_masks().tolist() == [True, False, False, True]  # 0 -> GU, 3 -> UG
    env.step(3)
    assert env.unwrapped._letters[0] + env.unwrapped._letters[11] == "UG"
    for _ in range(3):
        env.step(0)
    assert env.action_masks().tolist() == [False, False, False, True]  # the loop site: C only
    _, _, done, _, _ = env.step(1)  # A is not allowed: placed as the next allowed action, C
    assert env.unwrapped._letters[4] == "C"
    while not done:
        _, _, done, _, info = env.step(0)
    assert independent_violations(info["sequence"], str(target), sequence_constraint="KNNNCNNNNNNK") == []


def test_local_improvement_tries_only_allowed_assignments():
    target, mask = "(((((....)))))", "NNNNNAAAANNNNN"
    bound = DesignConstraints(sequence=mask, avoid=("GGG",), allow_gu=False).bind(Structure(target))
    sequence = "GUGUGAAAACACAC"  # inside the mask; its fold misses sites 5, 9 (a fixed loop A), 13 and 14
    structure, _ = RNA.fold(sequence)
    assert structure == "((((....)))).."
    free = local_improvement(sequence, structure, target)
    assert free.distance == 0 and independent_violations(free.sequence, target, sequence_constraint=mask)
    kept = local_improvement(sequence, structure, target, constraints=bound)
    assert kept.distance == 0 and RNA.fold(kept.sequence)[0] == target
    assert independent_violations(kept.sequence, target, sequence_constraint=mask, avoid=["GGG"], allow_gu=False) == []


@pytest.mark.parametrize("finish", ["repair", "walk"])
def test_the_finishers_change_only_what_the_constraints_allow(finish):
    from rnadesign.search.walk import adaptive_walk, decoy_repair

    target, mask = "(((((....)))))..((((....))))", "NNNNNAAAANNNNNAANNNNNNNNNNNN"
    spec = {"sequence": mask, "avoid": ["GGG"], "allow_gu": False, "gc": (0.5, 0.15)}
    bound = DesignConstraints(sequence=mask, avoid=("GGG",), allow_gu=False, gc_content=0.5, gc_tolerance=0.15).bind(
        Structure(target)
    )
    rng = np.random.default_rng(0)
    for _ in range(100):  # a start that satisfies the constraints and does not fold into the target
        sequence = bound.repair(bound.project("".join(rng.choice(list("ACGU"), len(target)))), rng)
        if RNA.fold(sequence)[0] != target and bound.satisfied(sequence):
            break
    assert RNA.fold(sequence)[0] != target
    assert not independent_violations(sequence, target, sequence_constraint=mask, **_kinds(spec))
    finisher = decoy_repair if finish == "repair" else adaptive_walk
    result = finisher(sequence, Structure(target), rng, max_folds=200, constraints=bound)
    assert result.folds > 0 and RNA.fold(result.sequence)[0] == result.structure
    assert independent_violations(result.sequence, target, sequence_constraint=mask, **_kinds(spec)) == []


def test_numpy_sampler_draws_only_masked_actions():
    from rnadesign.rl.numpy_policy import NumpyPolicy
    from rnadesign.rl.policy_file import default_policy_path, load_policy

    policy = load_policy(default_policy_path())
    network = NumpyPolicy(policy.agent, policy.state_dict)
    observations = np.zeros((64, policy.agent.env.window), dtype=np.int64)
    masks = np.zeros((64, 4), dtype=bool)
    masks[np.arange(64), np.arange(64) % 4] = True
    masks[::3, 2] = True
    actions = network.sample(observations, np.random.default_rng(0), masks)
    assert masks[np.arange(64), actions].all()
    unmasked = network.sample(observations, np.random.default_rng(0))
    assert (unmasked == network.sample(observations, np.random.default_rng(0), None)).all()


# -- what counts as solved ----------------------------------------------------------------------


def test_a_fold_that_breaks_the_window_is_no_solution_and_the_best_prefers_satisfying_designs():
    target = Structure("((((....))))")
    constraints = DesignConstraints(gc_content=0.5, gc_tolerance=0.05)
    run = DesignRun(target, DesignSettings(time_limit=30, constraints=constraints), seed=0)
    gc_rich = "GGGGAAAACCCC"  # folds into the target, 8 of 12 G/C
    assert RNA.fold(gc_rich)[0] == str(target)
    run.record(gc_rich, 0)
    assert run.solutions == [] and run.best_sequence == gc_rich and not run.best_satisfied
    close = "GGAUCAAGAUCC"  # inside the window, not yet folding into the target
    run.record(close, 3)
    assert run.best_sequence == close and run.best_satisfied
    run.record(gc_rich, 0)
    assert run.best_sequence == close


# -- designing under constraints in every mode --------------------------------------------------

TARGET = "((((((....)))))).....((((....))))"
ALL = {"sequence": "GGG*", "gc": (0.5, 0.05), "avoid": ("GGGG", "AAAAA", "GAATTC"), "allow_gu": False}


def _all_constraints():
    return DesignConstraints(
        sequence=ALL["sequence"],
        gc_content=ALL["gc"][0],
        gc_tolerance=ALL["gc"][1],
        avoid=ALL["avoid"],
        allow_gu=ALL["allow_gu"],
    )


def _check_result(result, target, spec):
    """Refold every design with ViennaRNA and check it with this file's own oracle."""
    assert result.solved, result
    for sequence in [result.sequence, *result.solutions]:
        assert RNA.fold(sequence)[0] == target
        assert independent_violations(sequence, target, sequence_constraint=spec.get("sequence"), **_kinds(spec)) == []
    assert result.constraints_satisfied is True and result.violations == []


def _kinds(spec):
    return {k: spec[k] for k in ("gc", "avoid", "allow_gu") if k in spec}


@pytest.mark.parametrize(
    ("mode", "limit"),
    [
        ("search", 5),
        ("hybrid", 5),
        ("meta-learna", 5),
        ("policy", 5),
        ("rnainverse", 5),
        ("meta-learna-adapt", 10),
        ("learna", 10),
    ],
)
def test_every_mode_designs_under_all_constraints(mode, limit):
    settings = DesignSettings(mode=mode, time_limit=limit, seed=3, constraints=_all_constraints())
    result = design(TARGET, settings)
    _check_result(result, TARGET, ALL)
    assert result.constraints == _all_constraints().to_dict()


@pytest.mark.parametrize("mode", ["meta-learna", "meta-learna-adapt", "learna"])
def test_the_policy_alone_designs_under_all_constraints(mode):
    """No refinement walk: the environment's masked actions, local step and reward must do it."""
    target = "((((((....))))))..((((....))))"
    spec = {**ALL, "gc": (0.5, 0.1)}
    constraints = DesignConstraints(
        sequence="GGG*", gc_content=0.5, gc_tolerance=0.1, avoid=ALL["avoid"], allow_gu=False
    )
    settings = DesignSettings(mode=mode, time_limit=10, seed=1, constraints=constraints, refine_share=0)
    _check_result(design(target, settings), target, spec)


@pytest.mark.parametrize(
    "spec",
    [
        {"sequence": "NNNNNNAAGANNNNNNNNNNNNNNNNNNNNNNN"},  # a binding site in the hairpin loop
        {"gc": (0.35, 0.05)},
        {"avoid": ("SS",)},  # no two G/C side by side: stems of isolated G-C pairs
        {"allow_gu": False},
    ],
    ids=["sequence", "gc", "motif", "no-gu"],
)
@pytest.mark.parametrize("mode", ["search", "meta-learna"])
def test_each_kind_of_constraint_alone(mode, spec):
    constraints = DesignConstraints(
        sequence=spec.get("sequence"),
        gc_content=spec.get("gc", (None, 0.05))[0],
        gc_tolerance=spec.get("gc", (None, 0.05))[1],
        avoid=spec.get("avoid", ()),
        allow_gu=spec.get("allow_gu", True),
    )
    result = design(TARGET, DesignSettings(mode=mode, time_limit=5, seed=1, constraints=constraints))
    _check_result(result, TARGET, spec)


def test_unconstrained_design_records_no_constraints():
    result = design("((((....))))", DesignSettings(mode="search", time_limit=5, seed=0))
    assert result.solved and result.constraints is None and result.constraints_satisfied is None


# -- files and the command line -----------------------------------------------------------------


def test_constraint_lines_in_target_files(tmp_path):
    path = tmp_path / "targets.txt"
    path.write_text(">a\n((((....))))\nGGGNNNNNNNNN\n\n>b\n((((....))))\n#seq nnnnaaaannnn\n((((....))))\n# c\n")
    targets = read_targets(path)
    assert [(t.name, t.constraint) for t in targets] == [
        ("a", "GGGNNNNNNNNN"),
        ("b", "nnnnaaaannnn"),
        ("target_8", None),
    ]
    assert [t.constraint for t in load_dataset(path).targets] == ["GGGNNNNNNNNN", "nnnnaaaannnn", None]


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "rnadesign", *args], capture_output=True, text=True, timeout=timeout)


def test_cli_impossible_constraint_line_exits_2_with_one_line_and_the_others_are_designed(tmp_path):
    path = tmp_path / "constrained.txt"
    path.write_text(
        ">t7\n((((((....))))))\nGGG*\n"
        ">bad_letter\n((((....))))\nNNNNXNNNNNNN\n"
        ">cannot_pair\n((((....))))\nANNNNNNNNNNA\n"
        ">loop\n((((....))))\nNNNNGAAANNNN\n"
    )
    proc = _cli("design", "-i", str(path), "-t", "5", "-s", "1", "-f", "json", "--no-gu", "--avoid", "GGGG,AAAA")
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 2, proc.stderr
    assert "bad_letter" in errors[0] and "position 5" in errors[0]
    assert "cannot_pair" in errors[1] and "positions 1 and 12" in errors[1]
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["name"] for r in records] == ["t7", "loop"]
    masks = {"t7": "GGG*", "loop": "NNNNGAAANNNN"}
    for record in records:
        assert record["solved"] and record["constraints_satisfied"] and record["violations"] == []
        assert record["constraints"]["allow_gu"] is False and record["constraints"]["avoid"] == ["GGGG", "AAAA"]
        assert RNA.fold(record["sequence"])[0] == record["target"]
        assert (
            independent_violations(
                record["sequence"],
                record["target"],
                sequence_constraint=masks[record["name"]],
                avoid=["GGGG", "AAAA"],
                allow_gu=False,
            )
            == []
        )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sequence-constraint", "GGZ*"], ["invalid letter 'Z' at position 3"]),
        (["--sequence-constraint", "NNNN"], ["4 letters", "12 positions"]),
        (["--gc-content", "0.9", "--gc-tolerance", "0"], ["GC content 0.90"]),
        (["--gc-tolerance", "0.1"], ["--gc-tolerance needs --gc-content"]),
    ],
)
def test_cli_bad_constraint_options_exit_2_with_one_line(args, words):
    proc = _cli("design", "((((....))))", "-t", "5", *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0]
    assert proc.stdout == ""


def test_benchmark_records_keep_constraints_apart(tmp_path):
    targets = tmp_path / "set.txt"
    targets.write_text("((((((....))))))\n")
    out = tmp_path / "out"
    plain = run_benchmark(load_dataset(targets), BenchmarkSpec(method="search", time_limit=4), out)
    constrained_spec = BenchmarkSpec(method="search", time_limit=4, constraints=_all_constraints())
    assert constrained_spec.series()["constraints"] == _all_constraints().to_dict()
    assert "constraints" not in BenchmarkSpec(method="search", time_limit=4).series()  # old keys unchanged
    constrained = run_benchmark(load_dataset(targets), constrained_spec, out)
    assert len(plain) == len(constrained) == 1
    assert plain[0]["series"] != constrained[0]["series"]
    assert plain[0]["constraints"] is None and constrained[0]["constraints"] == _all_constraints().to_dict()
    record = constrained[0]
    assert record["solved"] and record["constraints_satisfied"]
    assert RNA.fold(record["sequence"])[0] == record["target"]
    assert independent_violations(record["sequence"], record["target"], sequence_constraint="GGG*", **_kinds(ALL)) == []
    # A target's own constraint line is part of its attempt: with one, the plain record is not reused.
    targets.write_text("((((((....))))))\nNNNNNNAAAANNNNNN\n")
    lined = run_benchmark(load_dataset(targets), BenchmarkSpec(method="search", time_limit=4), out)
    assert len(lined) == 1 and lined[0]["target_constraint"] == "NNNNNNAAAANNNNNN"
    assert lined[0]["solved"] and lined[0]["sequence"][6:10] == "AAAA"
    assert len(read_results(out)) == 3
    # Nothing new to run a second time.
    assert len(run_benchmark(load_dataset(targets), BenchmarkSpec(method="search", time_limit=4), out)) == 1
    assert len(read_results(out)) == 3


def test_the_example_file_binds_and_only_its_wobble_target_needs_gu():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "examples" / "constrained.txt"
    targets = read_targets(path)
    assert len(targets) == 4 and all(t.constraint for t in targets)
    refused = []
    for target in targets:
        DesignConstraints(sequence=target.constraint).bind(target.parse())
        try:
            DesignConstraints(sequence=target.constraint, allow_gu=False).bind(target.parse())
        except ConstraintError:
            refused.append(target.name)
    assert refused == ["wobble_only"]
