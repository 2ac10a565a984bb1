"""The ``autorl`` command line: BOHB over rnadesign's agents, locally or on a cluster. Prints and exits here only.

Progress is logging (``autorl.*`` loggers, set up by :func:`rnadesign.cli.console.configure_logging`);
user errors (:class:`rnadesign.errors.RnaDesignError`, so :class:`autorl.errors.AutoRLError` too) and
OS errors on the user's paths end in one line and exit status 2 (:func:`rnadesign.cli.console.run_command`).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnadesign.cli.console import (
    EXIT_OK,
    EXIT_USAGE,
    ArgumentParser,
    add_verbosity_options,
    configure_logging,
    positive_int,
    positive_number,
    run_command,
)

from .errors import AutoRLError

PROG = "autorl"
#: autorl.space.MODES, named here so that --help imports no ConfigSpace (a test keeps the two equal).
SEARCH_MODES = ["learna", "meta", "hybrid"]
EXIT_FAILED = 1  # the search ran but no evaluation succeeded
INTERRUPTED = "interrupted; the log so far is kept (continue with --resume DIR)"

_log = logging.getLogger("autorl.cli")

#: The task options' defaults. The worker's options default to None instead, to tell "not given"
#: (the task then comes from run.json) from "given as the default".
TASK_DEFAULTS: dict[str, Any] = {
    "mode": "learna",
    "train": "meta-train",
    "seed": 0,
    "refine_share": 0.5,
    "sampling_episodes": 4,
    "env_workers": 1,
}


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 (any free one) to 65535, got {value!r}")
    return int(value)


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _add_task_options(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """The options that define the task; ``optional``: none required, all None unless given (worker)."""

    def default(name: str) -> Any:
        return None if optional else TASK_DEFAULTS[name]

    group = parser.add_argument_group("what each evaluation measures")
    group.add_argument(
        "--mode",
        choices=SEARCH_MODES,
        default=default("mode"),
        help="search to run: learna (the agent, learning on each target), meta (meta-training), hybrid (the "
        "ensemble-aware search of rnadesign's hybrid mode; budget = seconds of design per target) (default: learna)",
    )
    group.add_argument(
        "--targets",
        required=not optional,
        metavar="FILE_OR_DATASET",
        help="validation structures: a file, a folder of *.rna, or a dataset name (e.g. meta-validation)",
    )
    group.add_argument(
        "--train",
        default=default("train"),
        metavar="FILE_OR_DATASET",
        help=f"meta-training structures for --mode meta (default: {TASK_DEFAULTS['train']})",
    )
    group.add_argument(
        "--seed", type=int, default=default("seed"), help="seeds the sampler and every evaluation (default: 0)"
    )
    group.add_argument(
        "--refine-share",
        type=float,
        default=default("refine_share"),
        help="learna: share of design time the local search may take, as rnadesign design uses it; "
        "0 measures the agent alone (default: 0.5)",
    )
    group.add_argument(
        "--sampling-episodes",
        type=positive_int,
        default=default("sampling_episodes"),
        help="meta: episodes sampled per validation target after training (default: 4)",
    )
    group.add_argument(
        "--env-workers",
        type=positive_int,
        default=default("env_workers"),
        help="meta: environment processes per meta-training (default: 1)",
    )


def _given_task_options(args: argparse.Namespace) -> list[str]:
    """The task options given on a worker's command line (their defaults are None there)."""
    return [f"--{name.replace('_', '-')}" for name in ("targets", *TASK_DEFAULTS) if getattr(args, name) is not None]


def _load_task(args: argparse.Namespace):
    """The task from the task options; a worker's options not given take their defaults here."""
    from .worker import Task

    given = {name: getattr(args, name) for name in TASK_DEFAULTS}
    values = {name: TASK_DEFAULTS[name] if value is None else value for name, value in given.items()}
    mode, train = values.pop("mode"), values.pop("train")
    return Task.load(mode, args.targets, train, **values)


def _add_search_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("BOHB")
    group.add_argument("--min-budget", type=positive_number, required=True, help="smallest budget in seconds")
    group.add_argument("--max-budget", type=positive_number, required=True, help="largest budget in seconds")
    group.add_argument("--eta", type=float, default=3.0, help="successive-halving factor (default: 3)")
    group.add_argument("--n-iterations", type=positive_int, default=4, help="BOHB brackets to run (default: 4)")
    group.add_argument("--out", required=True, metavar="DIR", help="run directory: live log, run.json, worker logs")
    group.add_argument(
        "--resume",
        metavar="DIR",
        help="warm-start from a previous run's results (the same DIR as --out goes on in place)",
    )
    group.add_argument(
        "--ping-interval",
        type=positive_number,
        default=5.0,
        help="seconds between the master's checks for new and dead workers (default: 5)",
    )


def _search_settings(args: argparse.Namespace):
    from .master import SearchSettings

    return SearchSettings(
        mode=args.mode,
        min_budget=args.min_budget,
        max_budget=args.max_budget,
        eta=args.eta,
        n_iterations=args.n_iterations,
        seed=args.seed,
        ping_interval=args.ping_interval,
    )


def _add_network_options(parser: argparse.ArgumentParser, *, nameserver: bool = True) -> None:
    group = parser.add_argument_group("network (multi-host runs)")
    group.add_argument("--run-id", default="autorl", help="name shared by the master and its workers (default: autorl)")
    group.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind and to be reached at; the machine's cluster address for multi-host runs "
        "(default: 127.0.0.1)",
    )
    group.add_argument(
        "--interface", metavar="NIC", help="bind to this network interface's address instead (e.g. eth0)"
    )
    if nameserver:
        group.add_argument(
            "--nameserver",
            type=_address,
            metavar="HOST:PORT",
            help="the nameserver to use (default: read DIR/nameserver.json, see --dir)",
        )
    group.add_argument(
        "--dir",
        metavar="DIR",
        help="shared directory where the nameserver's address is written (nameserver.json) and read",
    )
    group.add_argument(
        "--secret-file",
        metavar="FILE",
        help="file holding the run's shared secret (or set AUTORL_SECRET); peers without it are refused",
    )
    tls = parser.add_argument_group(
        "TLS (runs across networks you do not trust; all three, on every peer)",
        "Every connection is then TLS, and both sides must present a certificate signed by --tls-ca; "
        "a machine's certificate must name its --host address. See the README's threat model.",
    )
    tls.add_argument("--tls-cert", metavar="PEM", help="this machine's certificate")
    tls.add_argument("--tls-key", metavar="PEM", help="its private key")
    tls.add_argument("--tls-ca", metavar="PEM", help="the run's CA certificate")


def _secret(args: argparse.Namespace) -> str:
    """The run's shared secret (and, with the --tls-* options, TLS on every connection from now on)."""
    from .nameserver import read_secret, secret_from_env

    tls = (args.tls_cert, args.tls_key, args.tls_ca)
    if any(tls):
        if not all(tls):
            raise AutoRLError("TLS needs all three of --tls-cert, --tls-key and --tls-ca")
        from .compat import use_tls

        use_tls(*tls)
    if args.secret_file:
        return read_secret(args.secret_file)
    secret = secret_from_env()
    if secret is None:
        raise AutoRLError("a shared secret is required for multi-host roles: --secret-file FILE or AUTORL_SECRET")
    return secret


def _bind_host(args: argparse.Namespace) -> str:
    if args.interface:
        from hpbandster.core.nameserver import nic_name_to_host

        try:
            return nic_name_to_host(args.interface)
        except ValueError as err:
            raise AutoRLError(f"unknown network interface {args.interface!r} ({err})") from None
    return args.host


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="BOHB (hpbandster) over rnadesign's network, state and training hyperparameters.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    opt = commands.add_parser(
        "optimize",
        help="a whole search on this machine (nameserver, master and worker processes on loopback)",
        description="Run BOHB on this machine: a nameserver and the master in this process and --workers "
        "worker processes beside them. Every finished evaluation is logged to --out as it happens; "
        "the incumbent is printed at the end (JSON on stdout).",
    )
    _add_task_options(opt)
    _add_search_options(opt)
    opt.add_argument("--workers", type=positive_int, default=1, help="worker processes, one core each (default: 1)")
    opt.add_argument(
        "--optimizer",
        choices=["bohb", "priorband"],
        default="bohb",
        help="bohb (hpbandster), or priorband (NePS; the priorband extra): a search from an expert's prior that "
        "spends what --n-iterations BOHB brackets would (default: bohb)",
    )
    opt.add_argument(
        "--prior",
        metavar="NAME_OR_FILE",
        help="priorband: learna or meta-learna (the paper's best configurations), default (the space's "
        "defaults), or a JSON file (an autorl best --export, an rnadesign config, or {config, confidence}) "
        "(default: learna; meta-learna for --mode meta; default for --mode hybrid)",
    )
    add_verbosity_options(opt)
    opt.set_defaults(handler=_cmd_optimize)

    ns = commands.add_parser("nameserver", help="run a nameserver for a multi-host search")
    _add_network_options(ns, nameserver=False)
    ns.add_argument("--port", type=_port, default=0, help="port to listen on (default: any free port)")
    add_verbosity_options(ns)
    ns.set_defaults(handler=_cmd_nameserver)

    master = commands.add_parser(
        "master",
        help="run the BOHB master of a multi-host search",
        description="Run the BOHB master. Without --nameserver it starts its own nameserver and writes "
        "its address to DIR/nameserver.json (--dir, default: --out) for the workers. The task goes to "
        "--out/run.json, which workers may read it from (see autorl worker --help).",
    )
    _add_task_options(master)
    _add_search_options(master)
    _add_network_options(master)
    master.add_argument("--port", type=_port, default=0, help="port of the master's own nameserver (default: any)")
    master.add_argument("--min-workers", type=positive_int, default=1, help="workers to wait for (default: 1)")
    add_verbosity_options(master)
    master.set_defaults(handler=_cmd_master)

    worker = commands.add_parser(
        "worker",
        help="run a worker of a search (on any machine that reaches the nameserver)",
        description="Serve evaluations until the master shuts the workers down. The worker takes its task "
        "from one place: --run DIR reads it from DIR/run.json (the newest run there; this is how the "
        "workers of autorl optimize get it); the task options (--targets ...) define it on the command "
        "line, for a worker with no filesystem shared with the master (they must match the master's); "
        "with neither, --dir DIR reads DIR/run.json once DIR/nameserver.json names the master, so DIR "
        "must then be the master's --out. The task is loaded from its sources again either way: a "
        "file named in run.json must be readable at the same absolute path on the worker's machine.",
    )
    _add_task_options(worker, optional=True)
    worker.add_argument(
        "--run",
        metavar="DIR",
        help="read the task from DIR/run.json (the newest run; its run id must be --run-id), "
        "instead of the task options",
    )
    _add_network_options(worker)
    worker.add_argument(
        "--idle-timeout",
        type=positive_number,
        help="exit after this many seconds without a job (default: wait for the master's shutdown)",
    )
    worker.add_argument(
        "--wait-for-master",
        type=positive_number,
        default=60.0,
        metavar="SECONDS",
        help="with --dir: how long to wait for the master's nameserver.json (default: 60)",
    )
    worker.add_argument("--worker-id", help=argparse.SUPPRESS)
    add_verbosity_options(worker)
    worker.set_defaults(handler=_cmd_worker)

    best = commands.add_parser("best", help="print a run's incumbent; --export writes it as an rnadesign preset")
    best.add_argument("run", metavar="DIR", help="a run directory")
    best.add_argument(
        "--export",
        metavar="FILE",
        help="write the incumbent as a configuration for rnadesign design --config / meta-train --config",
    )
    add_verbosity_options(best)
    best.set_defaults(handler=_cmd_best)

    report = commands.add_parser("report", help="print the incumbent trajectory and plot losses over wall time")
    report.add_argument("run", metavar="DIR", help="a run directory")
    report.add_argument("--plot", metavar="PNG", help="where to write the plot (default: DIR/report.png)")
    add_verbosity_options(report)
    report.set_defaults(handler=_cmd_report)

    analyze = commands.add_parser(
        "analyze",
        help="what mattered: hyperparameter importance per budget, budget correlation, partial dependence",
        description="Read a run's log (finished or running) and print Markdown: per budget, fANOVA and local "
        "importance around the incumbent (random forests on that budget's results), the rank correlation "
        "of losses between budgets (Kendall, Spearman), and partial-dependence plots of the top "
        "hyperparameters (PNGs). Also writes the space as configspace.json (ConfigSpace JSON, for DeepCAVE).",
    )
    analyze.add_argument("run", metavar="DIR", help="a run directory")
    analyze.add_argument("--out", metavar="DIR", help="where the PNGs and configspace.json go (default: the run's DIR)")
    analyze.add_argument("--top", type=positive_int, default=3, help="hyperparameters per plot (default: 3)")
    analyze.add_argument("--seed", type=int, default=0, help="seeds the random forests (default: 0)")
    add_verbosity_options(analyze)
    analyze.set_defaults(handler=_cmd_analyze)

    compare = commands.add_parser(
        "compare",
        help="compare runs (optimizers, several seeds each): incumbent loss over wall time, mixed-model test",
        description="Each run's incumbent loss at a quarter, half and all of a common wall time (default: the "
        "shortest run's), per run and per method (the optimizer in run.json), and a linear mixed-effects "
        "test: method fixed; target and run random (per-target distances), or seed random (meta searches); "
        "a likelihood-ratio test against the model without method and Holm-corrected pairs, at 0.05.",
    )
    compare.add_argument("runs", nargs="+", metavar="DIR", help="run directories")
    compare.add_argument("--at", type=positive_number, metavar="SECONDS", help="wall time to compare at")
    compare.add_argument("--plot", metavar="PNG", help="also draw the incumbents' losses over wall time")
    add_verbosity_options(compare)
    compare.set_defaults(handler=_cmd_compare)
    return parser


def _print_incumbent(incumbent: dict | None, out: str) -> int:
    if incumbent is None:
        _error(f"no evaluation succeeded: see the exceptions in {out}/results.json and the worker logs")
        return EXIT_FAILED
    print(json.dumps(incumbent), flush=True)
    return EXIT_OK


def _cmd_optimize(args: argparse.Namespace) -> int:
    from .local import optimize

    settings = _search_settings(args)
    if args.optimizer == "priorband":
        from .priorband import load_prior, run_priorband

        if args.resume:
            raise AutoRLError("--resume goes on with a BOHB run; a PriorBand run keeps its state in DIR/neps")
        default = {"learna": "learna", "meta": "meta-learna", "hybrid": "default"}[args.mode]
        prior = load_prior(args.prior or default, args.mode)
        task = _load_task(args)
        incumbent = run_priorband(task, settings, args.out, prior=prior, workers=args.workers)
        _log.info("done; log in %s. Export the incumbent with: autorl best %s --export preset.json", args.out, args.out)
        return _print_incumbent(incumbent, args.out)
    if args.prior:
        raise AutoRLError("--prior is for --optimizer priorband")
    task = _load_task(args)  # fail here, with one line, rather than in every worker process
    incumbent = optimize(task, settings, args.out, workers=args.workers, resume=args.resume)
    _log.info("done; log in %s. Export the incumbent with: autorl best %s --export preset.json", args.out, args.out)
    return _print_incumbent(incumbent, args.out)


def _cmd_nameserver(args: argparse.Namespace) -> int:
    from .nameserver import serve_nameserver

    serve_nameserver(args.run_id, _bind_host(args), args.port, _secret(args), args.dir)
    return EXIT_OK


def _cmd_master(args: argparse.Namespace) -> int:
    from .master import prepare_run, run_master
    from .nameserver import CREDENTIALS, check_nameserver, read_credentials, start_nameserver, write_credentials

    secret = _secret(args)
    settings = _search_settings(args)
    task = _load_task(args)
    host = _bind_host(args)
    address = args.nameserver
    if address is None and args.dir and (Path(args.dir) / CREDENTIALS).exists() and not args.port:
        ns_host, ns_port, _ = read_credentials(args.dir, args.run_id, wait=0)  # from `autorl nameserver`
        try:
            check_nameserver(ns_host, ns_port, secret)
        except AutoRLError as err:
            raise AutoRLError(f"{err}; if {Path(args.dir) / CREDENTIALS} was left by a killed run, delete it") from None
        address = (ns_host, ns_port)
    # run.json before nameserver.json: a worker that finds the master through --dir may read its task there
    prepare_run(settings, args.out, run_id=args.run_id, resume=args.resume, task=task)
    nameserver = credentials = None
    try:
        if address is None:
            nameserver, ns_host, ns_port = start_nameserver(args.run_id, host, args.port, secret)
            address = (ns_host, ns_port)
            credentials = write_credentials(args.dir or args.out, args.run_id, ns_host, ns_port)
            _log.info("nameserver at %s:%s (written to %s)", ns_host, ns_port, credentials)
        incumbent = run_master(
            settings,
            args.out,
            run_id=args.run_id,
            nameserver=address,
            host=host,
            secret=secret,
            min_workers=args.min_workers,
            resume=args.resume,
            prepared=True,
        )
    finally:
        if nameserver is not None:
            nameserver.shutdown()
        if credentials is not None:
            credentials.unlink(missing_ok=True)  # a late worker must not find a dead nameserver
    return _print_incumbent(incumbent, args.out)


def _cmd_worker(args: argparse.Namespace) -> int:
    from .nameserver import read_credentials
    from .worker import read_task, run_worker

    secret = _secret(args)
    given = _given_task_options(args)
    task = None
    if args.run is not None:
        if given:
            raise AutoRLError(f"--run reads the task from {Path(args.run) / 'run.json'}: leave out {', '.join(given)}")
        task = read_task(args.run, args.run_id)
    elif args.targets is not None:
        task = _load_task(args)
    elif given:
        raise AutoRLError(f"{', '.join(given)} without --targets: give the whole task, or none of it (see --help)")
    elif not args.dir:
        raise AutoRLError("the worker needs its task: the task options (--targets ...), --run DIR, or --dir DIR")
    if args.nameserver is not None:
        address = args.nameserver
    elif args.dir:
        _log.info("looking for the nameserver of run %s in %s", args.run_id, args.dir)
        ns_host, ns_port, _ = read_credentials(args.dir, args.run_id, wait=args.wait_for_master)
        address = (ns_host, ns_port)
    else:
        raise AutoRLError("tell the worker where the nameserver is: --nameserver HOST:PORT or --dir DIR")
    if task is None:  # neither --run nor task options: the master's run.json in --dir
        task = read_task(args.dir, args.run_id, wait=args.wait_for_master)
    run_worker(
        task,
        run_id=args.run_id,
        nameserver=address,
        host=_bind_host(args),
        secret=secret,
        idle_timeout=args.idle_timeout,
    )
    return EXIT_OK


def _cmd_best(args: argparse.Namespace) -> int:
    from .report import export_preset, load_run

    run = load_run(args.run)
    if args.export:
        document = export_preset(run, args.export)
        search = document["search"]
        _log.info(
            "wrote %s: config %s at budget %g, loss %.4f. Use it with: rnadesign design TARGET --config %s",
            args.export, tuple(search["config_id"]), search["budget"], search["loss"], args.export,
        )  # fmt: skip
    incumbent = run.incumbent()
    if incumbent is None:
        raise AutoRLError(f"{args.run}: no successful evaluation yet")
    print(json.dumps(incumbent, indent=2), flush=True)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import load_run, plot_run, trajectory_table

    run = load_run(args.run)
    print(trajectory_table(run), flush=True)
    path = plot_run(run, args.plot or Path(args.run) / "report.png")
    _log.info("plot written to %s", path)
    return EXIT_OK


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .analyze import analyze, markdown
    from .report import load_run

    analysis = analyze(load_run(args.run), args.out, top=args.top, seed=args.seed)
    print(markdown(analysis), flush=True)
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_runs

    print(compare_runs(args.runs, at=args.at, plot=args.plot), flush=True)
    return EXIT_OK


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(PROG, quiet=args.quiet, verbose=args.verbose, timestamps=True)
    try:
        import ConfigSpace  # noqa: F401
        import hpbandster  # noqa: F401
    except ImportError as err:
        _error(f'{err.name} is missing: install the Auto-RL extra from the checkout with pip install -e ".[autorl]"')
        return EXIT_USAGE
    # SLURM and service managers stop jobs with SIGTERM: clean up as on Ctrl-C (stop workers,
    # remove nameserver.json, keep the log).
    signal.signal(signal.SIGTERM, _terminate)
    # hpbandster calls ConfigSpace APIs that 1.x deprecates; the warnings are noise to a user.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ConfigSpace(\.|$)")
    return run_command(PROG, args.handler, args, interrupted=INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
