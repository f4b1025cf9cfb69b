"""Parameter declarations: one per plugin option, driving validation, the GUI form and READMEs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["REQUIRED", "ConfigError", "ConfigProblem", "Param", "validate_params"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

# Declared type -> (Python types accepted, wording for errors). bool is not an int here.
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
    "str": ((str,), "a string"),
    "regex": ((str,), "a regular expression"),
    "list": ((list,), "a list"),
    "dict": ((dict,), "a mapping"),
}


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration, located as precisely as is known."""

    reason: str
    plugin: str = ""
    key: str = ""
    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        who = f"{self.plugin}: " if self.plugin else ""
        key = f"{self.key}: " if self.key else ""
        return f"{where}{who}{key}{self.reason}"


class ConfigError(Exception):
    """Invalid configuration. Names the plugin, the key and the reason of every problem."""

    def __init__(
        self,
        reason: str | None = None,
        *,
        plugin: str = "",
        key: str = "",
        file: str = "",
        line: int = 0,
        problems: list[ConfigProblem] | None = None,
    ) -> None:
        self.problems: list[ConfigProblem] = list(problems or [])
        if reason is not None:
            self.problems.insert(0, ConfigProblem(reason, plugin, key, file, line))
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def plugin(self) -> str:
        return self.problems[0].plugin if self.problems else ""

    @property
    def key(self) -> str:
        return self.problems[0].key if self.problems else ""

    def located(self, file: str, line: int = 0) -> ConfigError:
        """The same problems, with the file (and a default line) filled in where missing."""
        return ConfigError(
            problems=[
                ConfigProblem(p.reason, p.plugin, p.key, p.file or file, p.line or line)
                for p in self.problems
            ]
        )


@dataclass(frozen=True, slots=True)
class Param:
    """One option of a plugin: its config key, type, default, range and meaning.

    `type` is one of int, float, bool, str, regex, list, dict. `items` is the type of
    list items or dict values. `check` returns an error text for a value that passed the
    type and range checks but is still wrong (None when fine).
    """

    name: str
    type: str
    default: Any = REQUIRED
    description: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    items: str | None = None
    check: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"parameter {self.name}: unknown type {self.type!r}")
        if self.items is not None and self.items not in _TYPES:
            raise ValueError(f"parameter {self.name}: unknown item type {self.items!r}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def default_value(self) -> Any:
        """A fresh copy of the default (lists and dicts are never shared)."""
        d = self.default
        if isinstance(d, list):
            return list(d)
        if isinstance(d, dict):
            return dict(d)
        return d

    def type_text(self) -> str:
        if self.items and self.type in ("list", "dict"):
            return f"{self.type} of {self.items}"
        return self.type

    def range_text(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)}..{_num(self.max)}"
        if self.min is not None:
            return f">= {_num(self.min)}"
        if self.max is not None:
            return f"<= {_num(self.max)}"
        return ""

    def validate(self, value: Any) -> tuple[Any, str | None]:
        """The value converted to its declared type, or an error text."""
        accepted, wording = _TYPES[self.type]
        if self.type == "float" and isinstance(value, bool):
            return value, f"must be {wording}, got {value!r}"
        if not isinstance(value, accepted) or (self.type == "int" and isinstance(value, bool)):
            return value, f"must be {wording}, got {_shown(value)}"
        if self.type == "float":
            value = float(value)
        if self.items is not None:
            item_types, item_wording = _TYPES[self.items]
            values = value if isinstance(value, list) else list(value.values())
            for v in values:
                if not isinstance(v, item_types) or (self.items != "bool" and isinstance(v, bool)):
                    return value, f"every item must be {item_wording}, got {_shown(v)}"
            if isinstance(value, dict) and not all(isinstance(k, str) for k in value):
                return value, "every key must be a string"
        if self.choices is not None and value not in self.choices:
            return value, f"must be one of {', '.join(map(str, self.choices))}, got {value!r}"
        if self.min is not None and isinstance(value, int | float) and value < self.min:
            return value, f"must be at least {_num(self.min)}, got {value!r}"
        if self.max is not None and isinstance(value, int | float) and value > self.max:
            return value, f"must be at most {_num(self.max)}, got {value!r}"
        if self.type == "regex":
            try:
                re.compile(value)
            except re.error as e:
                return value, f"is not a valid regular expression ({e})"
        if self.check is not None:
            error = self.check(value)
            if error:
                return value, error
        return value, None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def validate_params(
    plugin: str, params: tuple[Param, ...], config: Mapping[str, Any]
) -> dict[str, Any]:
    """Every declared parameter's value (defaults filled in); ConfigError listing each problem.

    Unknown keys are errors, with the closest known key suggested.
    """
    declared = {p.name: p for p in params}
    problems: list[ConfigProblem] = []
    values: dict[str, Any] = {}
    for key in config:
        if key not in declared:
            hint = _closest(str(key), declared)
            known = f"did you mean {hint}?" if hint else _known(declared)
            problems.append(ConfigProblem(f"unknown key ({known})", plugin, str(key)))
    for p in params:
        if p.name in config:
            value, error = p.validate(config[p.name])
            if error:
                problems.append(ConfigProblem(error, plugin, p.name))
            values[p.name] = value
        elif p.required:
            problems.append(ConfigProblem("is required", plugin, p.name))
        else:
            values[p.name] = p.default_value()
    if problems:
        raise ConfigError(problems=problems)
    return values


def _known(declared: Mapping[str, Param]) -> str:
    if not declared:
        return "this plugin takes no options"
    return "known keys: " + ", ".join(declared)


def _closest(key: str, declared: Mapping[str, Param]) -> str | None:
    import difflib

    lowered = {name.lower(): name for name in declared}
    if key.lower() in lowered:
        return lowered[key.lower()]
    match = difflib.get_close_matches(key, list(declared), n=1, cutoff=0.75)
    return match[0] if match else None
