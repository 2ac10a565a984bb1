"""The ensemble-aware search's configuration (the ``hybrid`` and ``search`` modes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .checks import check_range, check_types, from_dict

__all__ = ["FINISHES", "HIERARCHY_TIMES", "OBJECTIVES", "SEARCH_STYLES", "SearchConfig", "load_search_config"]


OBJECTIVES = ("ensemble-defect", "probability", "mixed", "gap")
#: How the search finishes a new closest design (``SearchConfig.finish``).
FINISHES = ("repair", "walk")
#: How a long target's start shares the parts' time among its steps (``SearchConfig.hierarchy_time``).
HIERARCHY_TIMES = ("length", "left")
#: The search's styles (``SearchConfig.style``): the two of :mod:`rnadesign.search.start`, or both in turn.
SEARCH_STYLES = ("designer", "pyrimidine", "alternate")


@dataclass(frozen=True)
class SearchConfig:
    """The ensemble-aware search of the ``hybrid`` and ``search`` modes (see :mod:`rnadesign.search.ensemble`)."""

    objective: str = "probability"
    """What the search minimises: ``probability``, -ln P(target) per site (SAMFEO's probability defect, on
    a scale that still tells long designs apart); ``ensemble-defect``, the normalised ensemble defect;
    ``mixed``, the MFE distance per site plus the ensemble defect; ``gap``, E(target) - E(MFE) per site
    plus the ensemble defect."""
    kt_scale: float = 1.0
    """The objective's and the site draws' partition function weighs structures by exp(-E / (kt_scale kT)):
    below 1 a colder ensemble, in which P(target) ranks designs more as the energy gap E(target) - E(MFE)
    does and less by how many structures crowd near the MFE; the MFE itself is unchanged. At least 0.2:
    at 0.1 the partition function of Eterna100-V2 #68's known solution overflows."""
    population: int = 10
    """Designs kept (the k best by the objective); parents are drawn from them."""
    parent_temperature: float = 0.3
    """Parents are drawn with weight exp(-(objective - best) / temperature): small is greedy. The objectives
    are per site, so 0.3 draws nearly uniformly from the population (0.03 and 0.01 measured no better,
    docs/design.md)."""
    site_floor: float = 0.02
    """Sites are drawn in proportion to their positional defect plus this (so no site is ever ruled out)."""
    neighbour_pair: float = 0.3
    """Chance that mutating a pair also re-draws a stacked neighbour pair (helix ends move together)."""
    bonus_hairpins: float = 0.0
    """Chance that a child takes, in place of a point mutation, one of the energy model's bonus hairpin
    loops (:func:`~rnadesign.model.folding.bonus_hairpins`: closing pair and loop, e.g. the tetraloop C UACG G)
    at one of the target's hairpins of that loop length, drawn by its positional defect. 0, the default,
    turns it off (0.1 measured no better on the benchmarks, docs/design.md)."""
    policy_designs: int = 32
    """Designs sampled from the policy to seed the population beside the designer's start (``hybrid``;
    reseeds take half as many)."""
    policy_share: float = 0.0
    """``hybrid``: most of the time limit the policy's first designs (their episodes and their evaluations)
    may take before the search's loop; 0, the default: no cap (they take what ``policy_designs`` episodes
    take: about 5 s at 400 nt, half of a 10 s limit). 0.1 measured no better at 10 s (docs/design.md,
    session 28): on long targets the policy's designs are often the closest the search has."""
    policy_prior: float = 0.5
    """``hybrid``: weight of the policy's action probabilities in the mutation priors (the designer's
    weights take the rest)."""
    policy_parts: bool = False
    """``hybrid``, a long target's start (``hierarchy``): its parts are designed as ``hybrid`` designs them,
    with the policy's priors and draws (False: as ``search`` does). Off: measured worse (docs/design.md)."""
    patience: int = 200
    """Steps without a better objective before the population is reseeded."""
    restart: str = "fresh"
    """On reseeding: ``fresh`` starts again from new designs (SAMFEO restarts so), ``best`` keeps the best."""
    style: str = "designer"
    """The bases the search starts from and draws its mutations by (:mod:`~rnadesign.search.start`):
    ``designer``, GC-rich stems of G-C and C-G alike, A-rich loops (with the policy's priors in ``hybrid``);
    ``pyrimidine``, C-G pairs with C on the 5' side, G-U wobbles and U loops, the style of Eterna players'
    zigzag solutions (whose strands cannot slide by one base across a bulge; no policy priors);
    ``alternate``, lineages take turns: the first in the designer's style, a restart switches (a target
    solved before its first restart is designed exactly as with ``designer``). A pyrimidine lineage begins
    from fresh pyrimidine starts, not the policy's designs or the move policy's playouts; the move policy
    (``adapt_rate``) waits out ``alternate``'s pyrimidine lineages. Not the default: one dev pair, 84 against 85
    (docs/design.md, session 37)."""
    boost: float = 4.0
    """How much likelier G and A are at a hairpin loop's first mismatch (1: no boost, and an all-A start)."""
    finish_share: float = 0.3
    """Adaptive walks (MFE folds only) from each design at least as close to the target as any walked from
    before start while they have had at most this share of the elapsed time, and stop at this share of
    the time limit; 0 turns them off."""
    finish: str = "repair"
    """How a new closest design is finished (within ``finish_share``): ``repair``, negative design against
    the decoys its folds have shown (:func:`~rnadesign.search.walk.decoy_repair`: changes screened by energy
    evaluation, only the best folded); ``walk``, LEARNA's adaptive walk (MFE folds at the mispaired sites)."""
    repair_loops: bool = True
    """``finish`` "repair": a hairpin near the miss may also take, as one change, one of the energy model's
    bonus hairpin loops of its length (closing pair and loop, e.g. C UACG G; docs/design.md, session 16)."""
    repair_interiors: bool = True
    """``finish`` "repair": an interior loop or bulge near the miss may also change as one unit, both closing
    pairs and the unpaired sites beside them (a lone pair closing one forms only so; session 17)."""
    lock_motifs: bool = False
    """Every design keeps each lone pair across a one-base bulge (a branch of a multiloop or the exterior
    loop) and its neighbourhood at the bases with which the target beats the motif's local decoys by the most
    (the pair dropped; in a four-way junction without unpaired bases, two partner swaps): the search never
    reaches those bases one change at a time (Rfam-Taneda #10 and #11, the latter proven undesignable in session 31
    by another element; docs/design.md, session 30)."""
    lazy_defects: bool = True
    """With the ``probability`` objective, compute a design's pair probabilities (its positional defects)
    only when it is drawn as a parent: a child costs an MFE fold and a partition function without them."""
    hierarchy: int = 150
    """Targets at least this long that the designer's start does not fold into start from their parts'
    designs (:mod:`~rnadesign.search.hierarchy`; 0: never). Under constraints each part obeys its segment of them."""
    hierarchy_leaf: int = 100
    """Parts of at most this many sites are designed alone; longer ones are split and their halves' designs
    joined."""
    start_finish: float = 0.1
    """For a target that gets a hierarchical start: most of the time limit the designer's start's own finish
    takes before it (most long targets that start solves are solved within a second)."""
    hierarchy_share: float = 0.5
    """Most of the time limit the parts' designs take in all (each part in proportion to its length)."""
    hierarchy_time: str = "length"
    """How the parts' time (``hierarchy_share``) is shared among the steps of a long target's start, in the
    order they run: ``length``, each step (part or join) at most its length's share of it, within what is
    left; ``left``, each step the time left in proportion to its length among the steps left, so none is
    starved. With ``length`` the shares add up to as much as 6.7 times the time on Eterna100-V2's long puzzles (a
    join covers its parts' sites again), and the last steps get hundredths of a second once the first ones
    took theirs; ``left`` measured +1.5 puzzles a run on those puzzles at 30 s but one fewer Rfam-Taneda
    solve at 60 s, so it stays off by the rule fixed before the runs (docs/design.md, session 28)."""
    adapt_rate: float | None = None
    """Online policy adaptation (:mod:`~rnadesign.search.adapt`): the step size of the per-target move policy's
    update toward each new best design; a restart then draws its fresh designs from that policy. 0 turns
    it off (the search draws by its priors alone). None, the default, is the mode's own
    (:attr:`~rnadesign.modes.Mode.search_defaults`): 0.5 in ``hybrid`` (measured in docs/design.md), 0 in
    ``search``, the designer without learning."""
    adapt_prior: float = 1.0
    """With adaptation: the weight of the log of the search's priors (the designer's weights, in ``hybrid``
    mixed with the policy's probabilities) beside the learned weights."""
    adapt_avoid: float | None = None
    """With adaptation: the step size of the push away from a lineage's best design, at the sites around its
    miss, when the lineage ended without bringing the best MFE distance down (0: none; None: 0.5 in ``hybrid``)."""

    crossover: float = 0.0
    """Chance that a child takes, in place of a point mutation, a branch its parent's fold misses from an
    earlier lineage's best design whose fold has it right (:mod:`~rnadesign.search.crossover`). 0, the default,
    turns it off (0.2 with ``chimera`` measured no better on the benchmarks, docs/design.md, session 25)."""
    chimera: bool = False
    """On a restart, also seed the best earlier lineage's design with every branch it misses taken from
    another that has it right (:meth:`~rnadesign.search.crossover.Archive.chimera`)."""
    archive: int = 16
    """Ended lineages' best designs kept for ``crossover`` and ``chimera``."""
    redraw: float = 0.0
    """Chance that a child, in place of a point mutation, has every unpaired site and pair around one of its
    parent's misses redrawn from the move policy (:mod:`~rnadesign.search.redraw`). 0, the default, turns it
    off (0.1 measured no better in a dev screen, docs/design.md, session 26)."""
    redraw_radius: int = 3
    """``redraw``: the sites within this many of the missed site, of its target partner and of its MFE partner."""

    def __post_init__(self) -> None:
        check_types(self)
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        check_range("kt_scale", self.kt_scale, 0.2, 10)
        check_range("population", self.population, 1, 1000)
        check_range("parent_temperature", self.parent_temperature, 1e-4, 10)
        check_range("site_floor", self.site_floor, 0, 1)
        check_range("neighbour_pair", self.neighbour_pair, 0, 1)
        check_range("bonus_hairpins", self.bonus_hairpins, 0, 1)
        check_range("policy_designs", self.policy_designs, 1, 10000)
        check_range("policy_prior", self.policy_prior, 0, 1)
        check_range("policy_share", self.policy_share, 0, 1)
        check_range("patience", self.patience, 1, 10**6)
        if self.restart not in ("fresh", "best"):
            raise ConfigError(f"restart must be 'fresh' or 'best', got {self.restart!r}")
        if self.style not in SEARCH_STYLES:
            raise ConfigError(f"style must be one of {', '.join(SEARCH_STYLES)}, got {self.style!r}")
        check_range("boost", self.boost, 1, 100)
        check_range("finish_share", self.finish_share, 0, 0.95)
        if self.hierarchy != 0:
            check_range("hierarchy", self.hierarchy, 20, 10**6)
        check_range("hierarchy_leaf", self.hierarchy_leaf, 10, 10**6)
        check_range("hierarchy_share", self.hierarchy_share, 0, 0.9)
        if self.hierarchy_time not in HIERARCHY_TIMES:
            choices = ", ".join(HIERARCHY_TIMES)
            raise ConfigError(f"hierarchy_time must be one of {choices}, got {self.hierarchy_time!r}")
        check_range("start_finish", self.start_finish, 0, 0.95)
        if self.adapt_rate is not None:
            check_range("adapt_rate", self.adapt_rate, 0, 10)
        check_range("adapt_prior", self.adapt_prior, 0, 10)
        if self.adapt_avoid is not None:
            check_range("adapt_avoid", self.adapt_avoid, 0, 10)
        check_range("crossover", self.crossover, 0, 1)
        check_range("archive", self.archive, 1, 10000)
        check_range("redraw", self.redraw, 0, 1)
        check_range("redraw_radius", self.redraw_radius, 0, 1000)
        if self.finish not in FINISHES:
            raise ConfigError(f"finish must be one of {', '.join(FINISHES)}, got {self.finish!r}")


def load_search_config(text_or_path: str | Path) -> SearchConfig:
    """A :class:`SearchConfig` from a JSON object given inline (``'{"population": 20}'``) or in a file.

    Raises:
        ConfigError: unreadable file, malformed JSON, unknown fields or invalid values.
    """
    text = str(text_or_path)
    if not text.lstrip().startswith("{"):
        path = Path(text)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such search configuration file (or give a JSON object)") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: cannot read search configuration ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"search configuration: not valid JSON ({err.msg} at line {err.lineno})") from None
    if isinstance(data, dict) and "search_config" in data:  # written by autorl best --export of a hybrid search
        data = data["search_config"]
    return from_dict(SearchConfig, data, "search configuration")
