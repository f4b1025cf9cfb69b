"""Meta-test: each plugin in plugins.yml has its folder, a README with a current table, a sample."""

import pytest
import yaml

from agent.config import SECTIONS
from agent.plugindocs import END, START, all_plugin_classes, plugin_dir, update_readme
from agent.registry import PLATFORMS, Registry

CLASSES = all_plugin_classes()
SECTION_OF = {s[:-1]: s for s in SECTIONS}  # "input" -> "inputs"


def test_every_platform_registry_loads():
    for platform in PLATFORMS:
        assert Registry(platform).names()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.type_name)
def test_plugin_has_readme_with_a_current_table(cls):
    readme = plugin_dir(cls) / "README.md"
    assert readme.is_file(), f"{cls.type_name}: {readme} is missing"
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# {cls.type_name}"), f"{readme}: must start with '# {cls.type_name}'"
    assert START in text and END in text, f"{readme}: the params markers are missing"
    assert "## Configuration" in text
    stale = update_readme(cls, write=False)
    assert not stale, f"{readme}: table out of date; run `python -m agent.plugindocs`"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.type_name)
def test_plugin_sample_validates(cls):
    sample = plugin_dir(cls) / "sample.yml"
    assert sample.is_file(), f"{cls.type_name}: {sample} is missing"
    data = yaml.safe_load(sample.read_text(encoding="utf-8"))
    entries = data.get(SECTION_OF[cls.kind()]) if isinstance(data, dict) else None
    assert entries, f"{sample}: needs a '{SECTION_OF[cls.kind()]}:' list with the plugin"
    mine = [e for e in entries if e.get("Type") in (cls.type_name, *cls.aliases)]
    assert mine, f"{sample}: has no entry of Type {cls.type_name}"
    for entry in mine:
        cls.create({k: v for k, v in entry.items() if k != "Type"})


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.type_name)
def test_every_parameter_is_described(cls):
    for param in cls.params:
        assert param.description, f"{cls.type_name}: {param.name} has no description"
