"""The ``rnadesign`` command line. The only module that prints or exits."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, RnaDesignError
from ..model.constraints import DesignConstraints
from ..model.structure import InvalidTargetFileError, Structure, Target, read_targets
from . import output
from .console import (
    EXIT_OK,
    EXIT_USAGE,
    SEED_LIMIT,
    ArgumentParser,
    add_verbosity_options,
    configure_logging,
    non_negative_number,
    positive_int,
    positive_number,
    run_command,
)
from .console import seed as seed_type

PROG = "rnadesign"
_log = logging.getLogger("rnadesign.cli.main")


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


def _folding_model(args: argparse.Namespace):
    from ..model.folding import FoldingModel

    return FoldingModel(args.energy_parameters, args.dangles, args.temperature)


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
        "--gc-content", type=float, metavar="F", help="wanted fraction of G and C, e.g. 0.5 (default: any)"
    )
    group.add_argument(
        "--gc-tolerance",
        type=float,
        metavar="F",
        help="the GC content may differ from --gc-content by at most this (default: 0.05)",
    )
    group.add_argument(
        "--avoid",
        metavar="MOTIF,...",
        type=lambda text: tuple(m.strip() for m in text.split(",") if m.strip()),
        default=(),
        help="forbidden motifs, IUPAC letters allowed, e.g. GGGG,AAAAA,GAATTC (EcoRI)",
    )
    group.add_argument("--no-gu", action="store_true", help="no G-U or U-G wobble pairs in designed pairs")


def _constraints(args: argparse.Namespace) -> DesignConstraints | None:
    """The command line's constraints, or None when it sets none (checked here: one line, exit 2)."""
    if args.gc_tolerance is not None and args.gc_content is None:
        raise ConfigError("--gc-tolerance needs --gc-content")
    constraints = DesignConstraints(
        sequence=args.sequence_constraint,
        gc_content=args.gc_content,
        avoid=args.avoid,
        allow_gu=not args.no_gu,
        **({} if args.gc_tolerance is None else {"gc_tolerance": args.gc_tolerance}),
    )
    return constraints if constraints.active else None


def build_parser() -> argparse.ArgumentParser:
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
        help="pre-trained policy for the meta modes (default: the one shipped with rnadesign)",
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
        "--policy", metavar="FILE", help="pre-trained policy for the meta modes (default: the shipped one)"
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
    from ..benchmark.runner import parse_shard

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


def _limit_threads(n: int) -> None:
    """Run torch (and the BLAS below numpy) on ``n`` threads, whether or not torch is loaded yet."""
    import os

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(n)  # read by torch when it is first imported
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def _search_config(args: argparse.Namespace):
    from ..config import SearchConfig, load_search_config

    return SearchConfig() if args.search_config is None else load_search_config(args.search_config)


def _collect_targets(args: argparse.Namespace) -> list[Target]:
    """The targets of ``design``: the TARGET argument or the ``--input`` file (raises on neither or both)."""
    if args.target is not None and args.input is not None:
        raise InvalidTargetFileError("give either a TARGET or --input FILE, not both")
    if args.input is not None:
        return read_targets(args.input)
    if args.target is None:
        raise InvalidTargetFileError("no target given: pass a dot-bracket TARGET or --input FILE")
    return [Target(name="target", text=args.target)]


def _validate(
    targets: list[Target], constraints: DesignConstraints | None = None
) -> tuple[list[tuple[Target, Structure, DesignConstraints | None]], int]:
    """Parse every target and bind its constraints (``constraints`` and its own constraint line); report
    the bad ones on stderr and return the good ones with their constraints."""
    good, bad = [], 0
    for target in targets:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                structure = target.parse()
                own = DesignConstraints.of_target(constraints, target.constraint)
                if own is not None:
                    own.bind(structure)
            except RnaDesignError as err:  # a malformed target, or constraints it cannot meet
                _log.error("%s", f"{target.name}: {err}" if target.name != "target" else err)
                bad += 1
                continue
        for w in caught:
            _log.warning("%s: %s", target.name, w.message)
        good.append((target, structure, own))
    return good, bad


def _check_mode_options(args: argparse.Namespace, mode) -> None:
    """Refuse an option that the mode would ignore, naming the modes it applies to."""
    from ..modes import MODES

    def applies(flag: str, which) -> str:
        names = [m.name for m in MODES.values() if which(m)]
        return f"{flag} applies to --mode {' or '.join(names)}, not {mode.name}"

    if args.config is not None and not mode.accepts_config:
        raise ConfigError(
            applies("--config", lambda m: m.accepts_config)
            + ("; this mode takes its configuration from the policy file (--policy)" if mode.uses_policy else "")
        )
    if getattr(args, "policy", None) is not None and not mode.uses_policy:
        raise ConfigError(applies("--policy", lambda m: m.uses_policy))
    if getattr(args, "stall_restart", None) is not None and not mode.stall_restart:
        raise ConfigError(applies("--stall-restart", lambda m: m.stall_restart))
    if getattr(args, "restart_timeout", None) is not None and not mode.restarts:
        raise ConfigError(applies("--restart-timeout", lambda m: m.restarts))
    if getattr(args, "search_config", None) is not None and not mode.searches:
        raise ConfigError(applies("--search-config", lambda m: m.searches))


def _cmd_design(args: argparse.Namespace) -> int:
    from ..modes import DEFAULT_MODE, get_mode

    folding = _folding_model(args)  # a bad parameter file stops the command before anything else
    good, bad = _validate(_collect_targets(args), _constraints(args))
    if not good:
        return EXIT_USAGE
    from ..model.designability import undesignable

    for target, structure, _ in good:  # a design still runs: the closest sequence may be of use
        for reason in undesignable(structure, folding, loops=False):
            _log.warning("%s: no sequence can fold into this target: %s", target.name, reason)
    if args.mode is None:  # a configuration is an agent to train: that is the learna mode
        args.mode = "learna" if args.config is not None else DEFAULT_MODE
    mode = get_mode(args.mode)
    _check_mode_options(args, mode)
    agent, _ = mode.resolve(args.config, args.policy)  # fail now, with one clear line, before any design
    if not mode.accepts_config:
        agent = None  # the mode reads its agent from the policy file itself

    from ..design import DesignSettings, design

    search = _search_config(args)
    plots = None if args.plot is None else output.PlotWriter(args.plot)
    header = output.header(args.format)
    _limit_threads(args.threads)
    for index, (target, structure, constraints) in enumerate(good):
        seed = None if args.seed is None else (args.seed + index) % SEED_LIMIT
        settings = DesignSettings(
            mode=args.mode,
            time_limit=args.time_limit,
            num_solutions=args.num_solutions,
            restart_timeout=args.restart_timeout,
            stall_restart=DesignSettings.stall_restart if args.stall_restart is None else args.stall_restart,
            seed=seed,
            folding=folding,
            policy=args.policy,
            search=search,
            constraints=constraints,
        )
        _log.info("[%s] designing %d nt, mode %s, %gs budget", target.name, len(structure), args.mode, args.time_limit)
        if constraints is not None:
            _log.info("[%s] constraints: %s", target.name, constraints.describe())
        try:
            result = design(structure, settings, agent, name=target.name)
        except RnaDesignError as err:  # e.g. a budget too small for this target: the others still run
            _log.error("%s", err)
            bad += 1
            continue
        verdict = "solved" if result.solved else f"not solved (best distance {result.distance})"
        _log.info("[%s] %s in %.1fs, seed %d", target.name, verdict, result.time_s, result.seed)
        if header is not None:
            print(header, end="")
            header = None
        print(output.render(result, args.format), end="", flush=True)
        if plots is not None:
            for path in plots.write(result):
                _log.info("[%s] picture: %s", target.name, path)
    return EXIT_USAGE if bad else EXIT_OK


def _benchmark_config(method: str, config: str | None, policy: str | None) -> dict:
    """What the summary records about the method's agent: the configuration, or the policy file and its card."""
    from ..modes import get_mode

    agent, policy_file = get_mode(method).resolve(config, policy)
    if policy_file is not None:
        from ..rl.policy_file import default_policy_path

        path = str(Path(policy).resolve()) if policy else str(default_policy_path())
        return {"policy": path, "agent": policy_file.agent.to_dict(), "card": policy_file.card}
    if agent is not None:
        return agent.to_dict()
    return {"method": method}


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from ..benchmark.datasets import load_dataset
    from ..benchmark.runner import BenchmarkSpec, read_results, run_benchmark, series_id
    from ..benchmark.summary import plot, summarize, table
    from ..files import atomic_write_json, output_directory
    from ..modes import get_mode

    output_directory(args.out)
    dataset = load_dataset(args.dataset)
    spec = BenchmarkSpec(
        method=args.method,
        time_limit=args.time_limit,
        runs=args.runs,
        jobs=args.jobs,
        seed=args.seed,
        config=args.config,
        folding=_folding_model(args),
        only=args.only,
        stall_restart=args.stall_restart,
        restart_timeout=args.restart_timeout,
        policy=args.policy,
        search=_search_config(args),
        shard=args.shard,
        constraints=_constraints(args),
    )
    _check_mode_options(args, get_mode(args.method))
    config = _benchmark_config(args.method, args.config, args.policy)
    out = Path(args.out)
    records = run_benchmark(dataset, spec, out)
    series = spec.series()
    summary = summarize(
        records,
        dataset=dataset.name,
        method=args.method,
        time_limit=args.time_limit,
        n_targets=len(args.only) if args.only else len(dataset.targets),
        runs=args.runs,
        config=config,
    )
    summary["series"] = {"id": series_id(series), **series}
    if args.shard is not None:  # a part of the benchmark: its own summary, merged by 'benchmark summary'
        from ..benchmark.runner import shard_label
        from ..benchmark.summary import shard_summary_name

        summary["series"].update(shard=shard_label(args.shard), only=list(args.only) if args.only else None)
        atomic_write_json(out / shard_summary_name(args.shard), summary)
        print(table(summary), flush=True)
        return EXIT_OK
    atomic_write_json(out / "summary.json", summary)
    atomic_write_json(out / f"summary-{args.method}-{args.time_limit:g}s-{series_id(series)}.json", summary)
    plot(out, read_results(out), dataset=dataset.name, n_targets=len(dataset.targets))
    print(table(summary), flush=True)
    return EXIT_OK


def _cmd_meta_train(args: argparse.Namespace) -> int:
    from ..benchmark.datasets import load_dataset
    from ..config import load_agent_config
    from ..files import output_directory

    output_directory(args.out)
    train_set = load_dataset(args.train)
    validation_set = load_dataset(args.validation)
    agent = load_agent_config(args.config)
    train = [t.parse(warn=False) for t in train_set.targets[: args.max_train]]
    validation = [t.parse(warn=False) for t in validation_set.targets]
    folding = _folding_model(args)
    _limit_threads(1)
    from ..rl.distributed import detect_world
    from ..rl.meta import MetaTrainSettings, meta_train

    world = detect_world()  # torchrun's or srun's variables; a group of one otherwise
    settings = MetaTrainSettings(
        time_budget=args.time_budget,
        workers=args.workers,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        validate_every=args.validate_every,
        validation_episodes=args.validation_episodes,
        **({} if args.dist_timeout is None else {"dist_timeout": args.dist_timeout}),
    )
    card = meta_train(
        train,
        validation,
        agent,
        args.out,
        settings,
        resume=args.resume,
        folding=folding,
        train_name=f"{train_set.name} ({len(train)} structures)",
        world=world,
    )
    if world.rank == 0:
        print(json.dumps(card, indent=2), flush=True)
    if world.world_size > 1:
        # Every result is written and the group is left; the interpreter's shutdown can still end a
        # rank with SIGABRT inside torch ("terminate called without an active exception", 1 of 6
        # runs of the two-rank test on a loaded machine), which torchrun and srun report as a failed
        # job. Leave without it.
        sys.stderr.flush()
        logging.shutdown()
        os._exit(EXIT_OK)
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    from ..benchmark.summary import merge_shards, plot, table
    from ..files import atomic_write_json, output_directory

    summary, records = merge_shards(args.dirs)
    out = output_directory(args.out or args.dirs[0])
    atomic_write_json(out / "summary.json", summary)
    key = summary["series"]["id"]
    atomic_write_json(out / f"summary-{summary['method']}-{summary['time_limit']:g}s-{key}.json", summary)
    plot(out, records, dataset=summary["dataset"], n_targets=summary["n_targets"])
    print(table(summary), flush=True)
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.stats:
        from ..benchmark.stats import compare_stats

        print(compare_stats(args.dirs, pool=args.pool, at=args.at), flush=True)
        return EXIT_OK
    if args.pool or args.at is not None:
        raise ConfigError(f"{'--pool' if args.pool else '--at'} applies to the test: add --stats")
    from ..benchmark.summary import compare

    print(compare(args.dirs), flush=True)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["benchmark", "compare"]:
        args = build_compare_parser().parse_args(argv[2:])
    elif argv[:2] == ["benchmark", "summary"]:
        args = build_summary_parser().parse_args(argv[2:])
    else:
        args = build_parser().parse_args(argv)
    configure_logging(PROG, quiet=args.quiet, verbose=args.verbose)
    # SLURM and service managers stop jobs with SIGTERM: stop as on Ctrl-C (a benchmark kills its
    # attempts, meta-training writes a checkpoint).
    signal.signal(signal.SIGTERM, _terminate)
    return run_command(PROG, args.handler, args)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
