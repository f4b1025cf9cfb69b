"""processor_regex: extract fields from one field with a regular expression (iLogtail's).

The common case — a log whose only field is the source, a match, every named group
set — takes a fast path in `process_logs`: the new contents come from one dict display
compiled for the configured keys (`_dict_maker`), several times faster than
`dict.update(zip(...))` for a dozen fields. Every other case goes through
`process_log`; both give the same contents, in the same order.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from agent.params import ConfigError, Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import DROPPED, FAILED, OK, LogProcessor, cut, not_empty

try:
    _sre: Any = importlib.import_module("re._constants")
    _sre_parse: Any = importlib.import_module("re._parser")
except ImportError:  # a Python whose re internals moved: groups count as maybe unset
    _sre = _sre_parse = None

__all__ = ["RegexProcessor"]

type DictMaker = Callable[[tuple[str, ...], str], dict[str, str]]


def groups_always_set(regex: str, flags: int = 0) -> bool:
    """Whether every group of `regex` takes part in every match (none is ever None).

    Conservative: a group under an alternative, an optional repeat, a condition or a
    negative assertion counts as possibly unset; so does anything not understood.
    """
    if _sre_parse is None:
        return False
    try:
        parsed = _sre_parse.parse(regex, flags)
    except Exception:
        return False
    c = _sre
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT))
    certain: set[int] = set()

    def walk(items: Any, sure: bool) -> None:
        for op, av in items:
            if op is c.SUBPATTERN:
                group, _, _, sub = av
                if group is not None and sure:
                    certain.add(group)
                walk(sub, sure)
            elif op in repeats:
                low, _, sub = av
                walk(sub, sure and low >= 1)
            elif op is c.ATOMIC_GROUP:
                walk(av, sure)
            elif op is c.ASSERT:
                walk(av[1], sure)
            elif op is c.BRANCH:
                for branch in av[1]:
                    walk(branch, False)
            elif op is c.ASSERT_NOT:
                walk(av[1], False)
            elif op is c.GROUPREF_EXISTS:
                walk(av[1], False)
                if av[2] is not None:
                    walk(av[2], False)

    walk(parsed, True)
    return certain == set(range(1, parsed.state.groups))


def _dict_maker(keys: list[str | None], source: str | None) -> DictMaker:
    """`make(values, value)`: `{source: value, keys[0]: values[0], ...}` (keys that are
    None left out; no source entry when `source` is None), as one dict display.

    Built like namedtuple's methods; the keys are bound as variables, never pasted into
    the code. A display keeps a repeated key where it first appeared with the last
    value, as `dict.update` does.
    """
    names = {f"k{i}": key for i, key in enumerate(keys) if key is not None}
    items = [f"k{i}: values[{i}]" for i, key in enumerate(keys) if key is not None]
    if source is not None:
        names["source"] = source
        items.insert(0, "source: value")
    maker: DictMaker = eval(f"lambda values, value: {{{', '.join(items)}}}", names)
    return maker


@register
class RegexProcessor(LogProcessor):
    type_name = "processor_regex"
    aliases = ("processor_parse_regex", "processor_parse_regex_native", "processor_regex_native")
    summary = "Extracts fields from a field with a regular expression; each group becomes a key."
    params = (
        Param("SourceKey", "str", "content", "The field to parse.", check=not_empty),
        Param(
            "Regex",
            "regex",
            description="Python regular expression; each group (...) captures one value. "
            "`.` also matches line breaks, as in iLogtail.",
        ),
        Param(
            "Keys",
            "list",
            [],
            "Names for the groups, in order. Empty: use the names of the named groups "
            "(?P<name>...).",
            items="str",
        ),
        Param(
            "FullMatch",
            "bool",
            True,
            "The whole value must match; false: the first match anywhere is used.",
        ),
        Param("KeepSource", "bool", False, "Keep the source field after a successful parse."),
        Param(
            "KeepSourceIfParseError",
            "bool",
            True,
            "Keep a line that does not match unchanged; false: remove its source field "
            "(a log left without fields is dropped).",
        ),
        Param(
            "NoMatchError",
            "bool",
            True,
            "Count a line that does not match as a pipeline error and warn about it.",
        ),
        Param("NoKeyError", "bool", False, "Warn when a log has no SourceKey field."),
    )

    SourceKey: str
    Regex: str
    Keys: list[str]
    FullMatch: bool
    KeepSource: bool
    KeepSourceIfParseError: bool
    NoMatchError: bool
    NoKeyError: bool

    def check_config(self) -> None:
        pattern = re.compile(self.Regex, re.DOTALL)
        if pattern.groups == 0:
            raise ConfigError("has no group (...) to extract a value with", key="Regex")
        if self.Keys:
            if len(self.Keys) > pattern.groups:
                raise ConfigError(
                    f"names {len(self.Keys)} keys but Regex has only {pattern.groups} group(s)",
                    key="Keys",
                )
            keys: list[str | None] = list(self.Keys)
        else:
            if not pattern.groupindex:
                raise ConfigError(
                    "is empty and Regex has no named group (?P<name>...); name the values "
                    "in Keys or in the Regex",
                    key="Keys",
                )
            names = {index: name for name, index in pattern.groupindex.items()}
            keys = [names.get(i) for i in range(1, pattern.groups + 1)]
        self._match = pattern.fullmatch if self.FullMatch else pattern.search
        self._keys = keys
        # With Keys, zip() goes straight into the contents when every group took part.
        self._names: list[str] | None = self.Keys or None
        self.unmatched_is_error = self.NoMatchError
        self.missing_is_error = self.NoKeyError
        # The fast path: with Keys, any match; without, only when no group is ever unset
        # (process_log leaves unset groups out).
        self._all_set = groups_always_set(self.Regex, re.DOTALL)
        self._make: DictMaker | None = None
        if self._names is not None or self._all_set:
            self._make = _dict_maker(keys, self.SourceKey if self.KeepSource else None)

    def process_logs(self, logs: list[Log]) -> list[Log]:
        make = self._make
        if make is None:
            return super().process_logs(logs)
        match, source, slow = self._match, self.SourceKey, self.process_log
        all_set = self._all_set
        kept: list[Log] = []
        keep = kept.append
        tally = [0, 0, 0, 0, 0, 0]
        parsed = 0
        for log in logs:
            try:
                contents = log.contents
                if len(contents) == 1 and (value := contents.get(source)) is not None:
                    m = match(value)
                    if m is not None:
                        values = m.groups()
                        if all_set or None not in values:
                            log.contents = make(values, value)
                            parsed += 1
                            keep(log)
                            continue
                outcome = slow(log)
            except Exception as e:
                outcome = FAILED
                self.failure = f"{type(e).__name__}: {e}"
            tally[outcome] += 1
            if outcome <= FAILED:
                keep(log)
        tally[OK] += parsed
        self._account(tally)
        return kept

    def process_log(self, log: Log) -> int:
        contents = log.contents
        source = self.SourceKey
        value = contents.get(source)
        if value is None:
            return self.absent(source)
        m = self._match(value)
        if m is None:
            return self.unparsed(
                contents,
                source,
                self.KeepSourceIfParseError,
                f"{source} does not match Regex: {cut(value)}",
            )
        values = m.groups()
        if not self.KeepSource:
            del contents[source]
        names = self._names
        if names is not None and None not in values:
            contents.update(zip(names, values, strict=False))
        else:
            contents.update(
                {
                    k: v
                    for k, v in zip(self._keys, values, strict=False)
                    if k is not None and v is not None
                }
            )
        return OK if contents else DROPPED
