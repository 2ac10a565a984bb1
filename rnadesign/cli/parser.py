"""The argument parsers of ``rnadesign``: every subcommand, its options and their help."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..errors import ConfigError
from . import output
from .commands import _cmd_benchmark, _cmd_compare, _cmd_design, _cmd_meta_train, _cmd_summary
from .console import (
    ArgumentParser,
    add_verbosity_options,
    non_negative_number,
    positive_int,
    positive_number,
)
from .console import seed as seed_type

PROG = "rnadesign"


def _add_folding_options(parser: argparse.ArgumentParser) -> None:
    from ..model.folding import ENERGY_PARAMETERS

    group = parser.add_argument_group("energy model (ViennaRNA)")
    group.add_argument(
        "--energy-parameters",
        default="turner2004",
        metavar="SET_OR_FILE",
        help=f"energy parameter set, one of {', '.join(ENERGY_PARAMETERS)}, or a ViennaRNA parameter file "
        "(.par), recorded with its SHA-256 (default: %(default)s)",
    )
    group.add_argument("--dangles", type=int, choices=[0, 1, 2, 3], default=2, help="dangling ends (default: 2)")
    group.add_argument("--temperature", type=float, default=37.0, help="temperature in Celsius (default: 37)")


def _add_constraint_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "constraints (a design counts as solved only if it also satisfies them)",
        "In an input file, a line of IUPAC letters (or '#seq LETTERS') right after a structure is that "
        "target's own sequence constraint; with --sequence-constraint too, both hold.",
    )
    group.add_argument(
        "--sequence-constraint",
        metavar="IUPAC",
        help="allowed bases per position: A C G U (T = U), N any, R Y S W K M B D H V; case-insensitive. "
        "A trailing * is N for the rest, e.g. GGG* fixes the first three bases (a T7 start)",
    )
    group.add_argument(
        "--gc-content", type=fraction, metavar="F", help="wanted fraction of G and C, e.g. 0.5 (default: any)"
    )
    group.add_argument(
        "--gc-tolerance",
        type=fraction,
        metavar="F",
        help="the GC content may differ from --gc-content by at most this (default: 0.05)",
    )
    group.add_argument(
        "--avoid",
        metavar="MOTIF,...",
        type=motif_list,
        default=(),
        help="forbidden motifs, IUPAC letters allowed, e.g. GGGG,AAAAA,GAATTC (EcoRI)",
    )
    group.add_argument("--no-gu", action="store_true", help="no G-U or U-G wobble pairs in designed pairs")


def fraction(text: str) -> float:
    """``--gc-content`` and ``--gc-tolerance``: a number from 0 to 1 (argparse names the option)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, got {text}")
    return value


def motif_list(text: str) -> tuple[str, ...]:
    """``--avoid``'s motifs; an empty one (``''``, ``',,'``, ``'GGGG,'``) is an error, as an empty
    ``--sequence-constraint`` is."""
    motifs = tuple(m.strip() for m in text.split(","))
    if not all(motifs):
        raise argparse.ArgumentTypeError(
            f"an empty forbidden motif in {text!r}: give motifs separated by commas, e.g. GGGG,AAAAA"
        )
    return motifs


def build_parser(more_commands: Callable[[argparse._SubParsersAction], None] | None = None) -> argparse.ArgumentParser:
    """The ``rnadesign`` parser; ``more_commands(subparsers)`` adds commands of the floors above (the entry
    point, cli/main.py, adds ``serve`` so: rnadesign.web imports this module and the commands)."""
    from ..modes import DEFAULT_MODE, MODES

    parser = ArgumentParser(prog=PROG, description="Design RNA sequences that fold into a target structure.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    design = commands.add_parser(
        "design",
        help="design sequences for one or more target structures",
        description="Design RNA sequences whose ViennaRNA MFE structure is the target. Results go to "
        "stdout as each target finishes; progress and errors go to stderr. Exit status 2 if any "
        "target is malformed (the others are still designed).",
    )
    design.add_argument("target", nargs="?", help="target structure in dot-bracket notation, e.g. '((((....))))'")
    design.add_argument(
        "-i",
        "--input",
        metavar="FILE",
        help="file of targets: one structure a line, optionally with '>name' header lines",
    )
    design.add_argument(
        "-t",
        "--time-limit",
        type=positive_number,
        default=60.0,
        metavar="SECONDS",
        help="wall-clock budget per target (default: %(default)s)",
    )
    design.add_argument(
        "--mode",
        choices=list(MODES),
        help=f"design mode (default: {DEFAULT_MODE}; learna when --config is given): "
        + "; ".join(f"{m.name}: {m.description}" for m in MODES.values()),
    )
    design.add_argument(
        "--config",
        metavar="PRESET_OR_JSON",
        help="agent configuration for --mode learna: a preset name or a JSON file, e.g. one written by "
        "autorl best --export (default: learna-fast)",
    )
    design.add_argument(
        "--policy",
        metavar="FILE",
        help="pre-trained policy for the modes that use one: a policy file, or a shipped one by name, "
        "default (PPO meta-trained) or expert (trained on the search's designs); without it hybrid uses expert, "
        "the other modes default",
    )
    design.add_argument(
        "-n",
        "--num-solutions",
        type=positive_int,
        default=1,
        metavar="N",
        help="stop after N distinct solutions, reported ranked: highest probability of the target in the "
        "ensemble first, ties by lower ensemble defect (default: 1)",
    )
    design.add_argument(
        "--restart-timeout",
        type=positive_number,
        metavar="SECONDS",
        help="restart from a fresh agent after this long without a new solution",
    )
    design.add_argument(
        "--stall-restart",
        type=non_negative_number,
        metavar="SECONDS",
        help="--mode learna: restart from a fresh agent when its own designs have not improved for this "
        "long and stay worse than the best found by local search (default: 20; 0 turns it off)",
    )
    design.add_argument(
        "-s",
        "--seed",
        type=seed_type,
        help="random seed, 0 to 2**31-1; target i of a file gets seed+i (default: drawn at random and reported)",
    )
    design.add_argument(
        "-f",
        "--format",
        choices=output.FORMATS,
        default="fasta",
        help="output format: FASTA records, one JSON object per target per line, or CSV/TSV with a header "
        "and one row per design; each design with its MFE energy, probability of the target, ensemble "
        "defect, GC content and whether the MFE is unique (default: fasta)",
    )
    design.add_argument(
        "--plot",
        metavar="DIR",
        help="write an SVG picture of each reported design into DIR, bases coloured by positional defect",
    )
    design.add_argument(
        "--search-config",
        metavar="JSON_OR_FILE",
        help="--mode hybrid/search: settings of the search as a JSON object or file, e.g. '{\"population\": 20}' "
        "(fields of rnadesign.config.SearchConfig)",
    )
    design.add_argument("--threads", type=positive_int, default=1, help="torch threads (default: 1)")
    add_verbosity_options(design)
    _add_folding_options(design)
    _add_constraint_options(design)
    design.set_defaults(handler=_cmd_design)

    bench = commands.add_parser(
        "benchmark",
        help="run a method on a benchmark set (or 'benchmark compare DIR...')",
        description="Run METHOD on every target of DATASET, one process per attempt, saving each result "
        "to DIR/results.jsonl as it finishes; re-running skips recorded attempts. Writes DIR/summary.json "
        "and DIR/solved_vs_time.png. 'rnadesign benchmark compare DIR...' prints a Markdown table; "
        "'rnadesign benchmark summary DIR...' merges the shards of a benchmark run with --shard K/N.",
    )
    bench.add_argument(
        "dataset",
        metavar="DATASET",
        help="eterna100-v1, eterna100-v2, rfam-taneda, rfam-learn-test, meta-validation, "
        "or a file of structures / folder of *.rna files",
    )
    bench.add_argument(
        "--method", default=DEFAULT_MODE, help=f"a design mode: {', '.join(MODES)} (default: %(default)s)"
    )
    bench.add_argument(
        "-t",
        "--time-limit",
        type=positive_number,
        required=True,
        metavar="SECONDS",
        help="seconds per attempt, counted from the attempt's process start",
    )
    bench.add_argument("--runs", type=positive_int, default=1, help="attempts per target (default: 1)")
    bench.add_argument("-j", "--jobs", type=positive_int, default=1, help="attempts in parallel (default: 1)")
    bench.add_argument("-o", "--out", required=True, metavar="DIR", help="results folder")
    bench.add_argument("-s", "--seed", type=seed_type, default=0, help="base seed (default: 0)")
    bench.add_argument("--config", metavar="PRESET_OR_JSON", help="agent configuration for --method learna")
    bench.add_argument(
        "--policy",
        metavar="FILE",
        help="pre-trained policy: a file, or default or expert (without it: as rnadesign design)",
    )
    bench.add_argument(
        "--only",
        metavar="ID,ID,...",
        type=lambda text: tuple(i.strip() for i in text.split(",") if i.strip()),
        help="run only these target ids (their seeds stay those of the whole dataset)",
    )
    bench.add_argument(
        "--stall-restart",
        type=non_negative_number,
        metavar="SECONDS",
        help="as rnadesign design --stall-restart (--method learna)",
    )
    bench.add_argument(
        "--restart-timeout", type=positive_number, metavar="SECONDS", help="as rnadesign design --restart-timeout"
    )
    bench.add_argument("--search-config", metavar="JSON_OR_FILE", help="as rnadesign design --search-config")
    bench.add_argument(
        "--shard",
        metavar="K/N",
        type=_shard,
        help="run only the K-th of N interleaved parts of the attempts (1 <= K <= N), into "
        "DIR/results-shard-K-of-N.jsonl; merge with 'rnadesign benchmark summary DIR...'",
    )
    add_verbosity_options(bench)
    _add_folding_options(bench)
    _add_constraint_options(bench)
    bench.set_defaults(handler=_cmd_benchmark)

    meta = commands.add_parser(
        "meta-train",
        help="meta-train a policy across many structures (Meta-LEARNA)",
        description="PPO across the training structures with N environment processes; checkpoints to "
        "DIR/checkpoint.pt, validation to DIR/validation.csv and TensorBoard, the final policy to "
        "DIR/policy.safetensors. --resume goes on from the checkpoint until the total budget is spent. "
        "Started by torchrun or srun (torchrun --standalone --nproc-per-node N -m rnadesign meta-train ...), "
        "the ranks train one policy data-parallel, each on its own share of the targets.",
    )
    meta.add_argument("--train", default="meta-train", help="training set: name or file (default: meta-train)")
    meta.add_argument("--validation", default="meta-validation", help="validation set (default: meta-validation)")
    meta.add_argument(
        "--time-budget",
        type=positive_number,
        required=True,
        metavar="SECONDS",
        help="seconds of training in all (a resumed run continues the count)",
    )
    meta.add_argument(
        "--workers", type=positive_int, default=1, help="environment processes (per rank when distributed; default: 1)"
    )
    meta.add_argument("-o", "--out", required=True, metavar="DIR")
    meta.add_argument(
        "--config",
        default="meta-learna",
        metavar="PRESET_OR_JSON",
        help="agent configuration (default: meta-learna, the paper's)",
    )
    meta.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        type=_resume_mode,
        metavar="auto",
        help="go on from DIR/checkpoint.pt; '--resume auto' starts afresh if there is none yet (for "
        "torchrun --max-restarts and SLURM requeue, which rerun one command line)",
    )
    meta.add_argument(
        "--dist-timeout",
        type=positive_number,
        default=None,
        metavar="SECONDS",
        help="distributed: a rank that waits this long for the others gives up with an error, so a dead "
        "or hung rank stops the group (default: 180)",
    )
    meta.add_argument("-s", "--seed", type=seed_type, default=0)
    meta.add_argument("--max-train", type=positive_int, metavar="N", help="use only the first N training targets")
    meta.add_argument("--checkpoint-every", type=positive_number, default=300.0, metavar="SECONDS")
    meta.add_argument("--validate-every", type=positive_number, default=600.0, metavar="SECONDS")
    meta.add_argument("--validation-episodes", type=positive_int, default=4, metavar="N")
    add_verbosity_options(meta)
    _add_folding_options(meta)
    meta.set_defaults(handler=_cmd_meta_train)

    if more_commands is not None:
        more_commands(commands)
    return parser


def build_compare_parser() -> argparse.ArgumentParser:
    """``rnadesign benchmark compare DIR...`` (parsed apart: argparse cannot hide a subcommand)."""
    parser = ArgumentParser(
        prog=f"{PROG} benchmark compare",
        description="Print one Markdown table of the summaries in several benchmark result folders.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR")
    parser.add_argument(
        "--stats",
        action="store_true",
        help="instead: per-target solved outcomes of every series in the DIRs, with a linear mixed-effects "
        "test (method fixed, target random; likelihood-ratio test and Holm-corrected pairs; needs statsmodels)",
    )
    parser.add_argument(
        "--pool",
        action="store_true",
        help="with --stats: the series of one method that differ only in their seed are runs of one designer, "
        "e.g. runs on different days (series with another --search-config, policy or constraints stay apart)",
    )
    parser.add_argument(
        "--at",
        type=float,
        metavar="SECONDS",
        help="with --stats: count a target solved only within SECONDS of its attempt's start (default: its limit)",
    )
    add_verbosity_options(parser)
    parser.set_defaults(handler=_cmd_compare)
    return parser


def build_summary_parser() -> argparse.ArgumentParser:
    """``rnadesign benchmark summary DIR...``: the shards of one benchmark merged into one summary."""
    parser = ArgumentParser(
        prog=f"{PROG} benchmark summary",
        description="Merge the shards of one benchmark (rnadesign benchmark ... --shard K/N, run into one "
        "or several folders) into OUT/summary.json and OUT/solved_vs_time.png, and print the table. "
        "Shards of different settings, shard counts or attempts are refused.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR")
    parser.add_argument("-o", "--out", metavar="OUT", help="where the merged summary goes (default: the first DIR)")
    add_verbosity_options(parser)
    parser.set_defaults(handler=_cmd_summary)
    return parser


def _shard(text: str) -> tuple[int, int]:
    from ..benchmark.spec import parse_shard

    try:
        return parse_shard(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _resume_mode(text: str) -> str:
    if text != "auto":
        raise argparse.ArgumentTypeError(f"--resume takes no value or 'auto', not {text!r}")
    return text


def _version() -> str:
    from .. import __version__

    return __version__
