"""The registry: plugins.yml sections per platform, validation when plugins register."""

import subprocess
import sys

import pytest

from agent.params import ConfigError
from agent.plugin import PluginDefinitionError
from agent.registry import Registry, load_registry


def write_yml(tmp_path, common=(), linux=(), windows=()):
    def section(mods):
        return "".join(f"    - import: {m}\n" for m in mods) or "    []\n"

    path = tmp_path / "plugins.yml"
    path.write_text(
        "plugins:\n  common:\n"
        + section(common)
        + "  linux:\n"
        + section(linux)
        + "  windows:\n"
        + section(windows)
    )
    return path


def test_real_registry_has_the_core_plugins():
    registry = load_registry("linux")
    names = registry.names()
    for name in (
        "input_file",
        "aggregator_base",
        "aggregator_context",
        "aggregator_default",
        "flusher_stdout",
        "flusher_file",
    ):
        assert name in names
    agg = registry.create("aggregator_context", {"MaxLogCount": 512})
    assert agg.MaxLogCount == 512 and agg.MaxLogGroupCount == 2


def test_create_validates_and_names_plugin_and_key():
    with pytest.raises(ConfigError) as e:
        load_registry("linux").create("aggregator_context", {"MaxLogCount": "many"})
    assert e.value.plugin == "aggregator_context" and e.value.key == "MaxLogCount"


def test_unknown_type_lists_the_known_ones_of_its_kind():
    with pytest.raises(ConfigError, match=r"unknown plugin type .*aggregator_context"):
        load_registry("linux").get("aggregator_nope")


def test_platform_sections_and_only_available_on(tmp_path):
    path = write_yml(
        tmp_path, common=["plugins.aggregator.base"], windows=["tests.fixtures.input.winonly"]
    )
    linux, windows = Registry("linux", path), Registry("windows", path)
    assert "input_winonly" not in linux.names()
    assert "input_winonly" in windows.names()
    assert windows.get("input_winonly").summary.startswith("A Windows-only input")
    with pytest.raises(ConfigError, match="input_winonly is only available on windows"):
        linux.create("input_winonly", {})
    [info] = [i for i in windows.plugins() if i.type_name == "input_winonly"]
    assert info.platforms == ("windows",)
    [base] = linux.plugins("aggregator")
    assert base.platforms == ("linux", "windows")


def test_wrong_signature_fails_at_registration_naming_the_plugin(tmp_path):
    path = write_yml(tmp_path, common=["tests.fixtures.aggregator.badsig"])
    with pytest.raises(PluginDefinitionError, match=r"plugin aggregator_badsig: add\(\) must take"):
        Registry("linux", path)


def test_module_path_must_match_type_name(tmp_path):
    path = write_yml(tmp_path, common=["plugins.aggregator.nothere"])
    with pytest.raises(
        PluginDefinitionError, match=r"plugins\.aggregator\.nothere cannot be imported"
    ):
        Registry("linux", path)


def test_plugins_command_lists_each_platform(tmp_path):
    def listing(platform):
        out = subprocess.run(
            [sys.executable, "-m", "agent.cli", "plugins", "--platform", platform],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out

    linux = listing("linux")
    assert "aggregator_default" in linux and "input_file" in linux
    header, *rows = linux.splitlines()
    assert header.split()[:4] == ["NAME", "KIND", "PLATFORMS", "DESCRIPTION"]
    row = next(r for r in rows if r.startswith("aggregator_context "))
    assert "aggregator" in row and "linux,windows" in row
    assert "aggregator_default" in listing("windows")
