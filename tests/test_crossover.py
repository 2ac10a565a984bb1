"""Crossover between lineages: branches are self-contained units, a graft takes a missed branch whole from
an archived design whose fold has it right, and the search with it still refolds what it reports."""

import numpy as np
import RNA

from rnadesign.config import SearchConfig
from rnadesign.design import DesignSettings, design
from rnadesign.model.constraints import DesignConstraints
from rnadesign.model.structure import parse_structure
from rnadesign.run.state import DesignRun
from rnadesign.search.crossover import Archive, branches
from rnadesign.search.ensemble import EnsembleSearch, designer_start

TARGET = "((((....).))).((((....).))).((((((..((...))..((...))))))))..((...))"


def test_branches_are_the_exterior_and_multiloop_branches():
    target = parse_structure(TARGET)
    assert branches(target) == [(0, 12), (14, 26), (28, 57), (36, 42), (45, 51), (60, 66)]
    # a stack or an interior loop is not a branch point: one branch
    assert branches(parse_structure("((((..((...))..))))")) == [(0, 18)]
    assert branches(parse_structure("....")) == []


def test_a_graft_takes_a_missed_branch_from_a_design_that_folds_it():
    target = parse_structure(TARGET)
    rng = np.random.default_rng(0)
    good = "GGGCGAAAGACCC" + "A" + "GCUCGAAAGAAGC" + "A" + "G" * 30 + "AA" + "GGAAAC"
    good = good[: len(TARGET)].ljust(len(TARGET), "A")
    # the archived design folds the first branch as the target does, the parent does not
    donor_structure = TARGET[:13] + "." * (len(TARGET) - 13)
    parent_structure = "." * len(TARGET)
    archive = Archive(target, size=2)
    archive.add(good, donor_structure, 10, 0.5)
    archive.add("C" * len(TARGET), "." * len(TARGET), 40, 0.9)
    archive.add("U" * len(TARGET), "." * len(TARGET), 50, 0.9)  # beyond the size: the worst goes
    assert [e[2][0] for e in archive.entries] == ["G", "C"]
    archive.add("A" * len(TARGET), TARGET, 0, 0.0)  # a solved design is reported, not archived
    assert len(archive) == 2
    parent = "U" * len(TARGET)
    child = archive.graft(parent, parent_structure, tuple([0.5] * len(TARGET)), rng)
    assert child == good[:13] + parent[13:]
    # a parent whose fold has every branch the donors have right gets no graft
    assert archive.graft(parent, donor_structure, (), rng) is None


def test_a_chimera_grafts_every_branch_the_best_misses_from_others():
    target = parse_structure(TARGET)
    rng = np.random.default_rng(1)
    n = len(TARGET)
    first, second = "G" * n, "C" * n
    # the best folds the second branch only; the other folds the first and the third (with its inner ones)
    best_structure = "." * 14 + TARGET[14:27] + "." * (n - 27)
    other_structure = TARGET[:13] + "." * 15 + TARGET[28:58] + "." * (n - 58)
    archive = Archive(target)
    archive.add(first, best_structure, 5, 0.1)
    archive.add(second, other_structure, 9, 0.2)
    chimera = archive.chimera(rng)
    assert chimera == second[:13] + first[13:28] + second[28:58] + first[58:]
    assert Archive(target).chimera(rng) is None


def test_the_search_archives_each_lineages_best_and_grafts_from_it():
    target = parse_structure(TARGET)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=60, seed=1), seed=1)
    search = EnsembleSearch(run, SearchConfig(crossover=1.0, chimera=True, patience=1))
    search.seed([designer_start(target, run.rng)])
    first = search.population[0]
    search._reseed()
    assert [e[2] for e in search.archive.entries] == [first.sequence] or first.view.distance == 0
    # a donor that folds the first branch: a parent missing it takes it whole
    n = len(TARGET)
    donor = "GGGCGAAAGACCC" + "A" * (n - 13)
    search.archive.entries.clear()
    search.archive.add(donor, TARGET[:13] + "." * (n - 13), 1, 0.0)
    search.population = [search.evaluate("A" * n)]  # the parent: folds no branch
    child = search.mutate(search.parent())
    assert child[:13] == donor[:13] and child[13:] == "A" * (n - 13)


def test_designs_of_the_search_with_crossover_refold():
    target = "((((....).))).((((....).))).((((....).)))....((((((....))))))"
    settings = DesignSettings(
        mode="search", time_limit=3, seed=3, search=SearchConfig(crossover=0.3, chimera=True, patience=5)
    )
    result = design(target, settings)
    assert result.sequence and RNA.fold(result.sequence)[0] == result.structure
    assert result.solved == (result.structure == target)


def test_grafts_and_chimeras_keep_to_the_constraints():
    target = parse_structure(TARGET)
    n = len(TARGET)
    constraints = DesignConstraints(sequence="GGNNNNAA" + "N" * (n - 8), avoid=("GGGG",), allow_gu=False)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=60, constraints=constraints), seed=4)
    search = EnsembleSearch(run, SearchConfig(crossover=1.0, chimera=True, population=2))
    # archived designs that keep to the constraints, each folding some branches as the target does
    for _ in range(6):
        candidate = search.evaluate(designer_start(target, run.rng, constraints=run.constraints))
        view = candidate.view
        search.archive.add(candidate.sequence, view.structure, max(view.distance, 1), candidate.objective)
    assert len(search.archive) >= 2
    search.seed([designer_start(target, run.rng, constraints=run.constraints)])
    parent = search.parent()
    for _ in range(20):
        child = search.mutate(parent)
        assert child is None or run.constraints.satisfied(child)
    search._reseed()  # the chimera is seeded through the constraints' repair, as every fresh design
    assert search.population and all(run.constraints.satisfied(c.sequence) for c in search.population)
