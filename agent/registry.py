"""The plugin registry: plugins.yml's `common` section plus the running platform's.

plugins.yml lists plugin modules in iLogtail's format::

    plugins:
      common:
        - import: plugins.aggregator.context
      linux:
        - import: plugins.input.journal
      windows:
        - import: plugins.input.wineventlog

A module `plugins.<kind>.<name>` registers the type `<kind>_<name>` (plus any aliases
it declares). The registry imports only its own platform's modules, yet knows every
section's type names, so a config naming another platform's plugin gets a clear
"only available on windows" instead of "unknown".
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.params import ConfigError
from agent.plugin import KINDS, Plugin, PluginDefinitionError, registered_in

__all__ = [
    "PLATFORMS",
    "SAFE_LOADER",
    "PluginInfo",
    "Registry",
    "current_platform",
    "load_registry",
    "plugins_yml_path",
]

PLATFORMS = ("linux", "windows")
_SECTIONS = ("common", *PLATFORMS)


def current_platform() -> str:
    return "windows" if sys.platform == "win32" else "linux"


def plugins_yml_path() -> Path:
    """Where plugins.yml is: the checkout's root, a wheel's copy, or a frozen bundle's."""
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "plugins.yml", here / "plugins.yml"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "plugins.yml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("plugins.yml not found beside the agent package")


@dataclass(frozen=True, slots=True)
class PluginInfo:
    type_name: str
    kind: str
    module: str
    platforms: tuple[str, ...]
    cls: type[Plugin] | None  # None for plugins of a platform whose modules were not imported
    alias_of: str = ""

    @property
    def summary(self) -> str:
        return self.cls.summary if self.cls is not None else ""


# libyaml's loader when PyYAML has it (its wheels do): the pure-Python one cost ~10 ms
# of every start, for plugins.yml and a pipeline (agent.config loads with it too).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_sections(path: Path) -> dict[str, list[str]]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    body = data.get("plugins", data) if isinstance(data, dict) else None
    if not isinstance(body, dict):
        raise PluginDefinitionError(f"{path}: expected a 'plugins:' mapping of sections")
    sections: dict[str, list[str]] = {}
    for section in _SECTIONS:
        entries = body.get(section) or []
        modules = []
        for entry in entries:
            module = entry.get("import") if isinstance(entry, dict) else None
            if not isinstance(module, str) or not module:
                raise PluginDefinitionError(
                    f"{path}: section {section}: "
                    "each entry must be '- import: plugins.<kind>.<name>'"
                )
            modules.append(module)
        sections[section] = modules
    unknown = set(body) - set(_SECTIONS)
    if unknown:
        raise PluginDefinitionError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(_SECTIONS)}"
        )
    return sections


def _type_name_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 3 or parts[-2] not in KINDS:
        raise PluginDefinitionError(
            f"plugins.yml: {module} is not a plugin module path (plugins.<kind>.<name>)"
        )
    return f"{parts[-2]}_{parts[-1]}"


def _import_plugins(module: str, platforms: tuple[str, ...]) -> list[PluginInfo]:
    expected = _type_name_of(module)
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise PluginDefinitionError(f"plugin module {module} cannot be imported: {e}") from e
    classes = registered_in(module)
    if not classes:
        raise PluginDefinitionError(
            f"plugin {expected}: module {module} registers no plugin "
            "(decorate its class with @register)"
        )
    infos = []
    for cls in classes:
        if cls.type_name != expected:
            raise PluginDefinitionError(
                f"plugin {cls.type_name}: lives in {module}, so its type_name must be {expected}"
            )
        kind = cls.kind()
        infos.append(PluginInfo(cls.type_name, kind, module, platforms, cls))
        infos.extend(
            PluginInfo(alias, kind, module, platforms, cls, alias_of=cls.type_name)
            for alias in cls.aliases
        )
    return infos


class Registry:
    """Maps type names to plugin classes for one platform."""

    def __init__(self, platform: str, path: Path | None = None) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; use {' or '.join(PLATFORMS)}")
        self.platform = platform
        self.path = path or plugins_yml_path()
        sections = _read_sections(self.path)
        self._elsewhere: dict[str, list[str]] = {}
        for other in PLATFORMS:
            if other != platform:
                for module in sections[other]:
                    self._elsewhere.setdefault(_type_name_of(module), []).append(other)
        self._plugins: dict[str, PluginInfo] = {}
        for section in ("common", platform):
            platforms = PLATFORMS if section == "common" else (platform,)
            for module in sections[section]:
                for info in _import_plugins(module, platforms):
                    if info.type_name in self._plugins:
                        raise PluginDefinitionError(
                            f"plugin {info.type_name} is registered twice (in {module} and "
                            f"{self._plugins[info.type_name].module})"
                        )
                    self._plugins[info.type_name] = info

    def plugins(self, kind: str | None = None, aliases: bool = False) -> list[PluginInfo]:
        return sorted(
            (
                i
                for i in self._plugins.values()
                if (kind is None or i.kind == kind) and (aliases or not i.alias_of)
            ),
            key=lambda i: (KINDS.index(i.kind), i.type_name),
        )

    def names(self, kind: str | None = None) -> list[str]:
        return [i.type_name for i in self.plugins(kind)]

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._plugins

    def get(self, type_name: str) -> type[Plugin]:
        """The class for `type_name`, or a ConfigError saying why there is none."""
        info = self._plugins.get(type_name)
        if info is not None and info.cls is not None:
            return info.cls
        if type_name in self._elsewhere:
            where = " and ".join(self._elsewhere[type_name])
            raise ConfigError(
                f"{type_name} is only available on {where}; this is {self.platform}",
                plugin=type_name,
            )
        kind = type_name.split("_", 1)[0]
        same_kind = [n for n in self._plugins if n.startswith(kind + "_") and kind in KINDS]
        known = ", ".join(sorted(same_kind)) if same_kind else ", ".join(sorted(self._plugins))
        raise ConfigError(f"unknown plugin type (known: {known})", plugin=type_name)

    def create(self, type_name: str, config: dict[str, Any] | None = None) -> Any:
        """A validated, configured plugin instance; ConfigError naming plugin and key otherwise."""
        return self.get(type_name).create(config)


_cache: dict[tuple[str, Path], Registry] = {}


def load_registry(platform: str | None = None, path: Path | None = None) -> Registry:
    """The registry for `platform` (default: the running one), loaded once per process."""
    platform = platform or current_platform()
    path = path or plugins_yml_path()
    key = (platform, path)
    if key not in _cache:
        _cache[key] = Registry(platform, path)
    return _cache[key]
