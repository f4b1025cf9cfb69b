"""Fixtures for the processor tests: a Context to inspect, and a registry of the processors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.metrics import PipelineMetrics
from agent.plugin import Context
from agent.registry import Registry

PROCESSORS = (
    "regex",
    "json",
    "split_char",
    "strptime",
    "add_fields",
    "rename",
    "drop",
    "filter_regex",
)


@pytest.fixture
def reports() -> list[tuple[str, dict[str, Any]]]:
    """What the processors reported through their Context, as (kind, data)."""
    return []


@pytest.fixture
def context(reports: list[tuple[str, dict[str, Any]]]) -> Context:
    return Context(
        pipeline="test",
        metrics=PipelineMetrics("test"),
        report=lambda kind, data: reports.append((kind, data)),
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A registry loading just these processors, as plugins.yml's `common` section would."""
    path: Path = tmp_path_factory.mktemp("registry") / "plugins.yml"
    entries = "".join(f"    - import: plugins.processor.{name}\n" for name in PROCESSORS)
    path.write_text(f"plugins:\n  common:\n{entries}", encoding="utf-8")
    return Registry("linux", path)
