"""Pipeline configuration: iLogtail-style YAML, validated completely before it is applied.

One file per pipeline (its name is the file's stem)::

    enable: true
    global: {AggregatIntervalMs: 3000, DefaultLogGroupQueueSize: 4}
    inputs:      [{Type: input_file, FilePaths: ["/var/log/*.log"]}]
    processors:  []
    aggregators: [{Type: aggregator_default}]
    flushers:    [{Type: flusher_file, FilePath: "~/tailbox-out.jsonl"}]

Every problem is reported with its file, line, plugin and key; nothing is applied
unless there are none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from agent.params import ConfigError, ConfigProblem, Param, validate_params
from agent.registry import SAFE_LOADER, Registry, load_registry
from agent.runner import DEFAULT_INTERVAL_MS

__all__ = [
    "GLOBAL_PARAMS",
    "SECTIONS",
    "PipelineConfig",
    "PluginConfig",
    "config_dir",
    "default_config",
    "load_config",
    "parse_config",
    "pipeline_files",
    "state_dir",
]

APP = "tailbox"
SECTIONS = ("inputs", "processors", "aggregators", "flushers")
_KIND_OF = {
    "inputs": "input",
    "processors": "processor",
    "aggregators": "aggregator",
    "flushers": "flusher",
}

GLOBAL_PARAMS = (
    Param(
        "AggregatIntervalMs",
        "int",
        DEFAULT_INTERVAL_MS,
        "How often aggregators flush (ms), unless the aggregator asks for its own interval.",
        min=10,
        max=3_600_000,
    ),
    Param(
        "DefaultLogGroupQueueSize",
        "int",
        4,
        "How many LogGroups wait between the aggregator and the flushers; when full, "
        "reading pauses (back-pressure) instead of dropping.",
        min=1,
        max=10_000,
    ),
    Param(
        "StopTimeoutSecs",
        "float",
        30.0,
        "On stop, how long to keep trying to deliver what was read before giving up "
        "(undelivered logs are not acknowledged and are read again next time).",
        min=0,
    ),
)


def config_dir() -> Path:
    """Where pipeline files live: the platform's per-user config folder."""
    override = os.environ.get("TAILBOX_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP, appauthor=False))


def state_dir() -> Path:
    """Where checkpoints live: the platform's per-user state folder."""
    override = os.environ.get("TAILBOX_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir(APP, appauthor=False))


def pipeline_files(directory: Path | None = None) -> list[Path]:
    directory = directory or config_dir() / "pipelines"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


@dataclass(slots=True)
class PluginConfig:
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"Type": self.type, **self.params}


@dataclass(slots=True)
class PipelineConfig:
    name: str
    file: str = ""
    enable: bool = True
    globals: dict[str, Any] = field(default_factory=dict)
    inputs: list[PluginConfig] = field(default_factory=list)
    processors: list[PluginConfig] = field(default_factory=list)
    aggregators: list[PluginConfig] = field(default_factory=list)
    flushers: list[PluginConfig] = field(default_factory=list)

    def section(self, name: str) -> list[PluginConfig]:
        return getattr(self, name)  # type: ignore[no-any-return]

    def global_value(self, key: str) -> Any:
        return self.globals[key]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"enable": self.enable}
        explicit = {k: v for k, v in self.globals.items() if v != _GLOBAL_DEFAULTS.get(k)}
        if explicit:
            data["global"] = explicit
        for name in SECTIONS:
            entries = self.section(name)
            if entries:
                data[name] = [p.to_dict() for p in entries]
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


_GLOBAL_DEFAULTS = {p.name: p.default for p in GLOBAL_PARAMS}


class _Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line = 0
    key_lines: dict[str, int]


class _LineLoader(SAFE_LOADER):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {
        str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(mapping: Any, key: str = "") -> int:
    if isinstance(mapping, _Mapping):
        return mapping.key_lines.get(key, mapping.line) if key else mapping.line
    return 0


def parse_config(
    text: str, file: str = "<config>", name: str | None = None, registry: Registry | None = None
) -> PipelineConfig:
    """Parse and validate a pipeline; ConfigError listing every problem otherwise."""
    name = name or Path(file).stem or "pipeline"
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"not valid YAML: {problem}", file=file, line=line) from None
    if data is None:
        data = _Mapping()
    if not isinstance(data, dict):
        raise ConfigError(
            "a pipeline file must be a YAML mapping (inputs:, flushers:, ...)", file=file
        )
    registry = registry or load_registry()
    problems: list[ConfigProblem] = []
    known = {"enable", "global", *SECTIONS}
    for key in data:
        if key not in known:
            problems.append(
                ConfigProblem(
                    f"unknown top-level key (known: {', '.join(sorted(known))})",
                    key=str(key),
                    file=file,
                    line=_line_of(data, str(key)),
                )
            )

    config = PipelineConfig(name=name, file=file)
    enable = data.get("enable", True)
    if not isinstance(enable, bool):
        problems.append(
            ConfigProblem(
                "must be true or false", key="enable", file=file, line=_line_of(data, "enable")
            )
        )
    else:
        config.enable = enable
    problems.extend(_parse_globals(data.get("global"), config, file, _line_of(data, "global")))
    for section in SECTIONS:
        problems.extend(_parse_section(data, section, config, file, registry))
    if not data.get("inputs"):
        problems.append(
            ConfigProblem(
                "a pipeline needs at least one input, e.g. {Type: input_file, FilePaths: [...]}",
                key="inputs",
                file=file,
                line=_line_of(data, "inputs"),
            )
        )
    if not data.get("flushers"):
        problems.append(
            ConfigProblem(
                "a pipeline needs at least one flusher, e.g. {Type: flusher_stdout}",
                key="flushers",
                file=file,
                line=_line_of(data, "flushers"),
            )
        )
    if len(config.aggregators) > 1:
        problems.append(
            ConfigProblem(
                "a pipeline takes one aggregator",
                key="aggregators",
                file=file,
                line=_line_of(data, "aggregators"),
            )
        )
    if problems:
        raise ConfigError(problems=problems)
    if not config.aggregators:
        config.aggregators.append(PluginConfig("aggregator_default"))
    return config


def _parse_globals(raw: Any, config: PipelineConfig, file: str, line: int) -> list[ConfigProblem]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return [ConfigProblem("must be a mapping", key="global", file=file, line=line)]
    try:
        config.globals = validate_params("global", GLOBAL_PARAMS, raw)
    except ConfigError as e:
        return [
            ConfigProblem(p.reason, "global", p.key, file, _line_of(raw, p.key) or line)
            for p in e.problems
        ]
    return []


def _parse_section(
    data: dict[str, Any], section: str, config: PipelineConfig, file: str, registry: Registry
) -> list[ConfigProblem]:
    raw = data.get(section)
    if raw is None:
        return []
    line = _line_of(data, section)
    if not isinstance(raw, list):
        return [
            ConfigProblem(
                "must be a list of plugins (- Type: ...)", key=section, file=file, line=line
            )
        ]
    problems: list[ConfigProblem] = []
    kind = _KIND_OF[section]
    for index, entry in enumerate(raw):
        where = f"{section}[{index}]"
        entry_line = _line_of(entry) or line
        if not isinstance(entry, dict):
            problems.append(
                ConfigProblem(
                    "must be a mapping with a Type", key=where, file=file, line=entry_line
                )
            )
            continue
        type_name = entry.get("Type")
        if not isinstance(type_name, str) or not type_name:
            problems.append(ConfigProblem("has no Type", key=where, file=file, line=entry_line))
            continue
        if not type_name.startswith(kind + "_"):
            problems.append(
                ConfigProblem(
                    f"is not {'an' if kind == 'input' else 'a'} {kind} "
                    f"plugin; {section} take {kind}_* types",
                    plugin=type_name,
                    file=file,
                    line=entry_line,
                )
            )
            continue
        params = {k: v for k, v in entry.items() if k != "Type"}
        try:
            registry.create(type_name, params)
        except ConfigError as e:
            problems.extend(
                ConfigProblem(
                    p.reason,
                    p.plugin or type_name,
                    p.key,
                    file,
                    _line_of(entry, p.key) or entry_line,
                )
                for p in e.problems
            )
            continue
        config.section(section).append(PluginConfig(type_name, dict(params), entry_line))
    return problems


def load_config(path: str | Path, registry: Registry | None = None) -> PipelineConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the file: {e.strerror or e}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", file=str(path)) from None
    return parse_config(text, str(path), path.stem, registry)


def default_config(registry: Registry | None = None) -> PipelineConfig:
    """The pipeline embedded in the package for this platform, without the inputs that
    have nothing to read on this machine: a plugin class may say so with a classmethod
    `available() -> bool` (input_journal where there is no journal)."""
    # Imported here: importlib.resources brings tempfile, shutil and compression modules
    # along, ~10 ms of every start-up that does not run the default pipeline.
    from importlib import resources

    registry = registry or load_registry()
    platform = registry.platform
    text = resources.files("agent").joinpath(f"defaults/{platform}.yml").read_text("utf-8")
    config = parse_config(text, f"<embedded default for {platform}>", "default", registry)
    config.inputs = [p for p in config.inputs if _available_here(registry, p.type)]
    return config


def _available_here(registry: Registry, type_name: str) -> bool:
    available = getattr(registry.get(type_name), "available", None)
    return bool(available()) if callable(available) else True
