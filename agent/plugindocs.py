"""Plugin READMEs: the configuration table is generated from each plugin's `params`.

A plugin's README.md carries the table between two markers::

    <!-- params:start -->
    ...generated...
    <!-- params:end -->

`python -m agent.plugindocs` rewrites every table (`--check` only reports stale ones);
`tailbox plugins --markdown` prints them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.params import Param
from agent.plugin import Plugin
from agent.registry import PLATFORMS, Registry, plugins_yml_path

__all__ = ["params_table", "plugin_dir", "stale_readmes", "update_readme"]

START = "<!-- params:start -->"
END = "<!-- params:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default_text(p: Param) -> str:
    if p.required:
        return "(required)"
    d = p.default
    if isinstance(d, bool):
        return "`true`" if d else "`false`"
    if isinstance(d, str):
        return f'`"{d}"`'
    if isinstance(d, list | dict):
        import json

        return f"`{json.dumps(d)}`"
    return f"`{d}`"


def params_table(cls: type[Plugin]) -> str:
    if not cls.params:
        return "This plugin takes no options besides `Type`."
    rows = [
        "| key | type | default | allowed | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in cls.params:
        rows.append(
            f"| `{p.name}` | {p.type_text()} | {_cell(_default_text(p))} | "
            f"{_cell(p.range_text())} | {_cell(p.description)} |"
        )
    return "\n".join(rows)


def plugin_dir(cls: type[Plugin]) -> Path:
    return plugins_yml_path().parent / Path(*cls.__module__.split("."))


def update_readme(cls: type[Plugin], write: bool = True) -> bool:
    """Regenerate the table in the plugin's README; True when it was out of date."""
    readme = plugin_dir(cls) / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{readme}: the markers {START} and {END} are missing")
    fresh = text[: start + len(START)] + "\n" + params_table(cls) + "\n" + text[end:]
    if fresh == text:
        return False
    if write:
        readme.write_text(fresh, encoding="utf-8")
    return True


def all_plugin_classes() -> list[type[Plugin]]:
    seen: dict[str, type[Plugin]] = {}
    for platform in PLATFORMS:
        for info in Registry(platform).plugins():
            if info.cls is not None:
                seen[info.type_name] = info.cls
    return [seen[name] for name in sorted(seen)]


def stale_readmes(write: bool) -> list[str]:
    return [cls.type_name for cls in all_plugin_classes() if update_readme(cls, write=write)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale tables")
    args = parser.parse_args(argv)
    stale = stale_readmes(write=not args.check)
    for name in stale:
        print(f"{name}: README table {'is out of date' if args.check else 'regenerated'}")
    return 1 if (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
