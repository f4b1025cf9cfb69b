"""`tailbox run [--once]` with the benchmark-only plugins registered (flusher_blackhole).

The CLI always loads the checkout's plugins.yml, so this runner merges it with
benchmarks/plugins.yml into a scratch file and drives `agent.agent.Agent` exactly as
`agent.cli.cmd_run` does: the same code path, plus one extra plugin.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import yaml

from agent.agent import Agent, tune_gc
from agent.config import load_config
from agent.registry import Registry, current_platform, plugins_yml_path

__all__ = ["bench_registry", "main", "merged_plugins_yml"]

HERE = Path(__file__).resolve().parent
EXTRA = HERE / "plugins.yml"


def merged_plugins_yml(target: Path) -> Path:
    """Write the repository's plugins.yml plus benchmarks/plugins.yml to `target`."""
    base = yaml.safe_load(plugins_yml_path().read_text(encoding="utf-8"))["plugins"]
    extra = yaml.safe_load(EXTRA.read_text(encoding="utf-8"))["plugins"]
    merged = {
        section: list(base.get(section) or []) + list(extra.get(section) or [])
        for section in ("common", "linux", "windows")
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({"plugins": merged}, sort_keys=False), encoding="utf-8")
    return target


def bench_registry(plugins_yml: Path) -> Registry:
    return Registry(current_platform(), plugins_yml)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", action="append", required=True, metavar="FILE")
    parser.add_argument("--plugins", required=True, type=Path, help="the merged plugins.yml")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    registry = bench_registry(args.plugins)
    configs = [load_config(path, registry) for path in args.config]
    tune_gc()  # as `tailbox run` does
    agent = Agent(registry)
    if args.once:
        return 0 if agent.run_once(configs) else 1
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    agent.start(configs)
    while not stop.wait(0.5):
        pass
    return 0 if agent.stop() else 1


if __name__ == "__main__":
    sys.exit(main())
