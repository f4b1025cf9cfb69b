"""The `tailbox` command: run pipelines headless, validate configs, list plugins.

`tailbox` with no subcommand opens the desktop window.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from agent.agent import Agent, tune_gc
from agent.config import PipelineConfig, config_dir, default_config, load_config, pipeline_files
from agent.events import Event
from agent.params import ConfigError
from agent.plugin import PluginDefinitionError
from agent.registry import PLATFORMS, Registry, current_platform, load_registry

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
_SHOWN_EVENTS = {
    "queue_full",
    "queue_recovered",
    "flusher_error",
    "flusher_recovered",
    "warning",
    "error",
}


def _err(text: str) -> None:
    print(f"tailbox: {text}", file=sys.stderr, flush=True)


# Reading paused because the flusher is slower: how a `--once` backfill is paced, so a
# quiet backfill keeps it to itself (a running agent falling behind still says so).
_BACKPRESSURE_EVENTS = {"queue_full", "queue_recovered"}


def _print_event(event: Event, backpressure: bool = True) -> None:
    if event.kind not in _SHOWN_EVENTS:
        return
    if not backpressure and event.kind in _BACKPRESSURE_EVENTS:
        return
    d = event.data
    if event.kind == "queue_full":
        text = (
            f"pipeline {event.pipeline}: queue full ({d.get('depth')}/{d.get('capacity')} "
            f"groups), reading paused; slowest flusher: {d.get('flusher') or '?'}"
        )
    elif event.kind == "queue_recovered":
        text = (
            f"pipeline {event.pipeline}: queue accepts again after "
            f"{d.get('duration', 0):.1f} s ({d.get('rejected', 0)} adds waited)"
        )
    elif event.kind == "flusher_error":
        again = "dropped the groups" if d.get("permanent") else "retrying with backoff"
        text = (
            f"pipeline {event.pipeline}: flusher {d.get('flusher')} failed "
            f"({d.get('error')}); {again}"
        )
    elif event.kind == "flusher_recovered":
        text = f"pipeline {event.pipeline}: flusher {d.get('flusher')} delivers again"
    else:
        text = f"pipeline {event.pipeline}: {event.kind}: {d.get('message', d)}"
    _err(text)


def _load_configs(files: list[str], registry: Registry) -> list[PipelineConfig]:
    """The pipelines to run: -c files, else the config dir's, else the embedded default."""
    problems = []
    configs = []
    paths = [Path(f) for f in files] or pipeline_files()
    for path in paths:
        try:
            configs.append(load_config(path, registry))
        except ConfigError as e:
            problems.extend(e.problems)
    if problems:
        raise ConfigError(problems=problems)
    return configs or [default_config(registry)]


def _describe(config: PipelineConfig) -> str:
    chain = " → ".join(
        "+".join(p.type for p in config.section(s)) or "-"
        for s in ("inputs", "processors", "aggregators", "flushers")
        if config.section(s)
    )
    return f"pipeline {config.name} ({config.file}): {chain}"


def cmd_run(args: argparse.Namespace) -> int:
    registry = load_registry()
    try:
        configs = _load_configs(args.config, registry)
    except ConfigError as e:
        for problem in e.problems:
            _err(str(problem))
        return EXIT_CONFIG
    tune_gc()
    agent = Agent(registry)
    quiet_backfill = args.once and args.quiet
    agent.events.subscribe(lambda event: _print_event(event, backpressure=not quiet_backfill))
    if args.once:
        started = time.monotonic()
        ok = agent.run_once(configs)
        if not args.quiet:
            elapsed = time.monotonic() - started
            _err(f"done in {elapsed:.2f} s" + ("" if ok else "; some logs were NOT delivered"))
        return EXIT_OK if ok else EXIT_FAILED

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            _err("stopping now, without waiting for delivery")
            raise SystemExit(EXIT_FAILED)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for config in configs:
        if not args.quiet:
            _err(_describe(config))
    pipelines_before = dict.fromkeys(c.name for c in configs if c.enable)
    agent.start(configs)
    if not args.quiet:
        _err("running; Ctrl-C stops (with a final flush)")
    started = time.monotonic()
    while not stop.wait(0.5):
        pass
    if not args.quiet:
        _err("stopping: final flush and delivery…")
    metrics = {name: p.metrics for name, p in agent.pipelines.items() if name in pipelines_before}
    ok = agent.stop()
    if not args.quiet:
        for name, m in metrics.items():
            _err(
                f"pipeline {name}: {m.lines} lines read, {m.delivered_logs} logs in "
                f"{m.groups} groups delivered in {time.monotonic() - started:.1f} s"
            )
    return EXIT_OK if ok else EXIT_FAILED


def cmd_validate(args: argparse.Namespace) -> int:
    registry = load_registry()
    failed = False
    for file in args.config:
        try:
            config = load_config(file, registry)
        except ConfigError as e:
            failed = True
            for problem in e.problems:
                print(problem, file=sys.stderr)
            continue
        print(f"{file}: OK ({_describe(config)})")
    return EXIT_CONFIG if failed else EXIT_OK


def cmd_plugins(args: argparse.Namespace) -> int:
    platforms = [args.platform] if args.platform else [current_platform()]
    registry = Registry(platforms[0])
    infos = registry.plugins(args.kind)
    if args.markdown:
        from agent.plugindocs import params_table

        for info in infos:
            if info.cls is not None:
                print(f"## {info.type_name}\n\n{info.summary}\n\n{params_table(info.cls)}\n")
        return EXIT_OK
    width = max((len(i.type_name) for i in infos), default=10)
    print(f"{'NAME':<{width}}  {'KIND':<10}  {'PLATFORMS':<14}  DESCRIPTION")
    for info in infos:
        print(
            f"{info.type_name:<{width}}  {info.kind:<10}  {','.join(info.platforms):<14}  "
            f"{info.summary}"
        )
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from gui.app import main as gui_main
    except ImportError as e:
        _err(f"the desktop window cannot start ({e}); `tailbox run` runs the agent headless")
        return EXIT_FAILED
    return int(gui_main(smoke_test=args.smoke_test))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tailbox",
        description="A desktop log agent. Without a command, opens the window.",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the window, run a tiny pipeline end to end, exit 0 on success",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run pipelines headless until Ctrl-C / SIGTERM")
    run.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="FILE",
        help="a pipeline file (repeatable); default: the pipelines in "
        f"{config_dir() / 'pipelines'}, else the embedded default",
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="read every matched file from its start to its current end, "
        "deliver everything, exit (for backfills and tests)",
    )
    run.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only problems (with --once, a queue-full pause is not one: "
        "it is how a backfill keeps pace with its flusher)",
    )
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check pipeline files; exit 2 on errors")
    validate.add_argument("-c", "--config", action="append", required=True, metavar="FILE")
    validate.set_defaults(func=cmd_validate)

    plugins = sub.add_parser("plugins", help="list the plugins of a platform")
    plugins.add_argument("--platform", choices=PLATFORMS, help="default: this machine's")
    plugins.add_argument("--kind", choices=("input", "processor", "aggregator", "flusher"))
    plugins.add_argument(
        "--markdown",
        action="store_true",
        help="print each plugin's configuration table as Markdown",
    )
    plugins.set_defaults(func=cmd_plugins)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="tailbox: %(name)s: %(message)s")
    try:
        if args.command is None:
            return cmd_gui(args)
        return int(args.func(args))
    except PluginDefinitionError as e:
        _err(f"a plugin is broken: {e}")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
