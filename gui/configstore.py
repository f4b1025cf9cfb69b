"""Pipeline files on disk: one iLogtail-style YAML file per pipeline in config_dir()/pipelines.

Files are written atomically and readable by their owner only (flusher headers may
hold secrets). A file that cannot be read or validated is still listed, with its
problems, so the window can show them instead of hiding the pipeline.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.config import PipelineConfig, config_dir, default_config, parse_config, pipeline_files
from agent.params import ConfigError
from agent.registry import Registry

__all__ = [
    "Draft",
    "export_pipeline",
    "import_pipeline",
    "load_drafts",
    "name_problem",
    "pipelines_dir",
    "save_pipelines",
    "to_config",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(slots=True)
class Draft:
    """A pipeline as the editor holds it: its name and its YAML mapping."""

    name: str
    data: dict[str, Any] | None  # None: the file could not be read as a YAML mapping
    problems: list[str] = field(default_factory=list)
    path: Path | None = None


def pipelines_dir() -> Path:
    return config_dir() / "pipelines"


def name_problem(name: str, taken: set[str]) -> str | None:
    """Why `name` cannot name a pipeline (it becomes a file name), or None."""
    if not _NAME.fullmatch(name):
        return (
            "use 1 to 64 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit"
        )
    if name in taken:
        return f"a pipeline named {name!r} exists already"
    return None


def to_config(draft: Draft, registry: Registry) -> PipelineConfig:
    """Validate a draft; ConfigError listing every problem otherwise."""
    if draft.data is None:
        where = str(draft.path or draft.name)
        raise ConfigError("; ".join(draft.problems) or "not a YAML mapping", file=where)
    text = yaml.safe_dump(draft.data, sort_keys=False, allow_unicode=True)
    return parse_config(text, str(draft.path or f"{draft.name}.yml"), draft.name, registry)


def _read(path: Path, name: str, registry: Registry) -> Draft:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        return Draft(name, None, problems=[f"{path}: {e}"], path=path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Draft(name, None, [f"{path}: not a YAML mapping"], path)
    draft = Draft(name, data, path=path)
    try:
        parse_config(text, str(path), name, registry)
    except ConfigError as e:
        draft.problems = [str(p) for p in e.problems]
    return draft


def load_drafts(registry: Registry, directory: Path | None = None) -> list[Draft]:
    """Every pipeline file; the embedded default (not yet saved) when there is none."""
    files = pipeline_files(directory or pipelines_dir())
    if files:
        return [_read(path, path.stem, registry) for path in files]
    return [Draft("default", default_config(registry).to_dict())]


def import_pipeline(path: Path, registry: Registry) -> Draft:
    draft = _read(path, path.stem, registry)
    draft.path = None  # it is saved under the config dir, not over the imported file
    return draft


def _write_private(path: Path, text: str) -> None:
    """Write atomically and owner-only: mkstemp creates 0600 whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def export_pipeline(config: PipelineConfig, path: Path) -> None:
    _write_private(path, config.to_yaml())


def save_pipelines(
    configs: list[PipelineConfig], removed: set[str], directory: Path | None = None
) -> list[Path]:
    """Write each pipeline to `<name>.yml`; delete the files of `removed` pipelines."""
    directory = directory or pipelines_dir()
    written = []
    for config in configs:
        path = directory / f"{config.name}.yml"
        _write_private(path, config.to_yaml())
        written.append(path)
    names = {c.name for c in configs}
    for path in pipeline_files(directory):
        # A removed pipeline's file goes; so does a .yaml twin of a file just written.
        if path not in written and (path.stem in removed or path.stem in names):
            path.unlink()
    return written
