"""The ``autorl`` command line: BOHB over rnadesign's agents, locally or on a cluster. Prints and exits here only."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from rnadesign.cli import positive_int, positive_number

PROG = "autorl"
EXIT_OK = 0
EXIT_FAILED = 1  # the search ran but no evaluation succeeded
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def _progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _add_task_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what each evaluation measures")
    group.add_argument("--mode", choices=["learna", "meta"], default="learna", help="search to run (default: learna)")
    group.add_argument(
        "--targets",
        required=True,
        metavar="FILE_OR_DATASET",
        help="validation structures: a file, a folder of *.rna, or a dataset name (e.g. meta-validation)",
    )
    group.add_argument(
        "--train",
        default="meta-train",
        metavar="FILE_OR_DATASET",
        help="meta-training structures for --mode meta (default: %(default)s)",
    )
    group.add_argument("--seed", type=int, default=0, help="seeds the sampler and every evaluation (default: 0)")
    group.add_argument(
        "--refine-share",
        type=float,
        default=0.5,
        help="learna: share of design time the local search may take, as rnadesign design uses it; "
        "0 measures the agent alone (default: 0.5)",
    )
    group.add_argument(
        "--sampling-episodes",
        type=positive_int,
        default=4,
        help="meta: episodes sampled per validation target after training (default: 4)",
    )
    group.add_argument(
        "--env-workers",
        type=positive_int,
        default=1,
        help="meta: environment processes per meta-training (default: 1)",
    )


def _task_args(args: argparse.Namespace) -> list[str]:
    """The task options again, for the worker processes of a local run."""
    return [
        "--mode",
        args.mode,
        "--targets",
        args.targets,
        "--train",
        args.train,
        "--seed",
        str(args.seed),
        "--refine-share",
        str(args.refine_share),
        "--sampling-episodes",
        str(args.sampling_episodes),
        "--env-workers",
        str(args.env_workers),
    ]


def _load_task(args: argparse.Namespace):
    from .worker import Task

    return Task.load(
        args.mode,
        args.targets,
        args.train,
        seed=args.seed,
        refine_share=args.refine_share,
        sampling_episodes=args.sampling_episodes,
        env_workers=args.env_workers,
    )


def _source(name_or_path: str) -> str:
    """A dataset name as it is; a file or folder as an absolute path, so run.json holds from anywhere."""
    path = Path(name_or_path)
    return str(path.resolve()) if path.exists() else name_or_path


def _task_description(args: argparse.Namespace, task) -> dict:
    return {
        "mode": args.mode,
        "targets": _source(args.targets),
        "n_targets": len(task.targets),
        "train": _source(args.train) if args.mode == "meta" else None,
        "n_train": len(task.train),
        "seed": args.seed,
        "refine_share": args.refine_share,
        "sampling_episodes": args.sampling_episodes,
        "env_workers": args.env_workers,
    }


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
    from .run import SearchSettings

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


def _secret(args: argparse.Namespace) -> str:
    from .run import AutoRLError, read_secret, secret_from_env

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
            raise ValueError(f"unknown network interface {args.interface!r} ({err})") from None
    return args.host


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    opt.set_defaults(handler=_cmd_optimize)

    ns = commands.add_parser("nameserver", help="run a nameserver for a multi-host search")
    _add_network_options(ns, nameserver=False)
    ns.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    ns.set_defaults(handler=_cmd_nameserver)

    master = commands.add_parser(
        "master",
        help="run the BOHB master of a multi-host search",
        description="Run the BOHB master. Without --nameserver it starts its own nameserver and writes "
        "its address to DIR/nameserver.json (--dir, default: --out) for the workers.",
    )
    _add_task_options(master)
    _add_search_options(master)
    _add_network_options(master)
    master.add_argument("--port", type=int, default=0, help="port of the master's own nameserver (default: any)")
    master.add_argument("--min-workers", type=positive_int, default=1, help="workers to wait for (default: 1)")
    master.set_defaults(handler=_cmd_master)

    worker = commands.add_parser(
        "worker",
        help="run a worker of a search (on any machine that reaches the nameserver)",
        description="Serve evaluations until the master shuts the workers down. The task options must "
        "match the master's.",
    )
    _add_task_options(worker)
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
    worker.set_defaults(handler=_cmd_worker)

    best = commands.add_parser("best", help="print a run's incumbent; --export writes it as an rnadesign preset")
    best.add_argument("run", metavar="DIR", help="a run directory")
    best.add_argument(
        "--export",
        metavar="FILE",
        help="write the incumbent as a configuration for rnadesign design --config / meta-train --config",
    )
    best.set_defaults(handler=_cmd_best)

    report = commands.add_parser("report", help="print the incumbent trajectory and plot losses over wall time")
    report.add_argument("run", metavar="DIR", help="a run directory")
    report.add_argument("--plot", metavar="PNG", help="where to write the plot (default: DIR/report.png)")
    report.set_defaults(handler=_cmd_report)
    return parser


def _print_incumbent(incumbent: dict | None, out: str) -> int:
    if incumbent is None:
        _error(f"no evaluation succeeded: see the exceptions in {out}/results.json and the worker logs")
        return EXIT_FAILED
    print(json.dumps(incumbent), flush=True)
    return EXIT_OK


def _cmd_optimize(args: argparse.Namespace) -> int:
    from .run import optimize

    settings = _search_settings(args)
    task = _load_task(args)  # fail here, with one line, rather than in every worker process
    incumbent = optimize(
        _task_args(args),
        settings,
        args.out,
        workers=args.workers,
        resume=args.resume,
        task_description=_task_description(args, task),
        progress=_progress,
    )
    _progress(f"done; log in {args.out}. Export the incumbent with: autorl best {args.out} --export preset.json")
    return _print_incumbent(incumbent, args.out)


def _cmd_nameserver(args: argparse.Namespace) -> int:
    from .run import serve_nameserver

    serve_nameserver(args.run_id, _bind_host(args), args.port, _secret(args), args.dir, _progress)
    return EXIT_OK


def _cmd_master(args: argparse.Namespace) -> int:
    from .run import (
        CREDENTIALS,
        AutoRLError,
        check_nameserver,
        read_credentials,
        run_master,
        start_nameserver,
        write_credentials,
    )

    secret = _secret(args)
    settings = _search_settings(args)
    task = _load_task(args)
    host = _bind_host(args)
    nameserver = None
    address = args.nameserver
    if address is None and args.dir and (Path(args.dir) / CREDENTIALS).exists() and not args.port:
        ns_host, ns_port, _ = read_credentials(args.dir, args.run_id, wait=0)  # from `autorl nameserver`
        try:
            check_nameserver(ns_host, ns_port, secret)
        except AutoRLError as err:
            raise AutoRLError(f"{err}; if {Path(args.dir) / CREDENTIALS} was left by a killed run, delete it") from None
        address = (ns_host, ns_port)
    credentials = None
    if address is None:
        nameserver, ns_host, ns_port = start_nameserver(args.run_id, host, args.port, secret)
        address = (ns_host, ns_port)
        credentials = write_credentials(args.dir or args.out, args.run_id, ns_host, ns_port)
        _progress(f"nameserver at {ns_host}:{ns_port} (written to {credentials})")
    try:
        incumbent = run_master(
            settings,
            args.out,
            run_id=args.run_id,
            nameserver=address,
            host=host,
            secret=secret,
            min_workers=args.min_workers,
            resume=args.resume,
            task_description=_task_description(args, task),
            progress=_progress,
        )
    finally:
        if nameserver is not None:
            nameserver.shutdown()
        if credentials is not None:
            credentials.unlink(missing_ok=True)  # a late worker must not find a dead nameserver
    return _print_incumbent(incumbent, args.out)


def _cmd_worker(args: argparse.Namespace) -> int:
    from .run import read_credentials, run_worker

    secret = _secret(args)
    task = _load_task(args)
    if args.nameserver is not None:
        address = args.nameserver
    elif args.dir:
        _progress(f"looking for the nameserver of run {args.run_id} in {args.dir}")
        ns_host, ns_port, _ = read_credentials(args.dir, args.run_id, wait=args.wait_for_master)
        address = (ns_host, ns_port)
    else:
        raise ValueError("tell the worker where the nameserver is: --nameserver HOST:PORT or --dir DIR")
    run_worker(
        task,
        run_id=args.run_id,
        nameserver=address,
        host=_bind_host(args),
        secret=secret,
        idle_timeout=args.idle_timeout,
        progress=_progress,
    )
    return EXIT_OK


def _cmd_best(args: argparse.Namespace) -> int:
    from .report import export_preset, load_run

    run = load_run(args.run)
    if args.export:
        document = export_preset(run, args.export)
        search = document["search"]
        _progress(
            f"wrote {args.export}: config {tuple(search['config_id'])} at budget {search['budget']:g}, "
            f"loss {search['loss']:.4f}. Use it with: rnadesign design TARGET --config {args.export}"
        )
    incumbent = run.incumbent()
    if incumbent is None:
        raise ValueError(f"{args.run}: no successful evaluation yet")
    print(json.dumps(incumbent, indent=2), flush=True)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import load_run, plot_run, trajectory_table

    run = load_run(args.run)
    print(trajectory_table(run), flush=True)
    path = plot_run(run, args.plot or Path(args.run) / "report.png")
    _progress(f"plot written to {path}")
    return EXIT_OK


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import ConfigSpace  # noqa: F401
        import hpbandster  # noqa: F401
    except ImportError as err:
        _error(f"{err.name} is missing: install the Auto-RL extra with pip install 'rnadesign[autorl]'")
        return EXIT_USAGE
    from .run import AutoRLError

    # SLURM and service managers stop jobs with SIGTERM: clean up as on Ctrl-C (stop workers,
    # remove nameserver.json, keep the log).
    signal.signal(signal.SIGTERM, _terminate)
    # hpbandster calls ConfigSpace APIs that 1.x deprecates; the warnings are noise to a user.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ConfigSpace(\.|$)")
    try:
        return args.handler(args)
    except (ValueError, AutoRLError, OSError) as err:
        _error(str(err))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted; the log so far is kept (continue with --resume DIR)")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
