"""Parameter declarations validate configs and say what is wrong, where."""

import pytest

from agent.params import ConfigError, Param, validate_params

PARAMS = (
    Param("MaxLogCount", "int", 1024, "logs per group", min=1, max=4096),
    Param("Topic", "str", ""),
    Param("PackFlag", "bool", True),
    Param("Keys", "list", [], items="str"),
    Param("Regex", "regex", "x"),
    Param("Mode", "str", "a", choices=("a", "b")),
    Param("Paths", "list", items="str"),  # required
)


def test_defaults_are_filled_in_and_fresh():
    values = validate_params("p", PARAMS, {"Paths": ["/x"]})
    assert values["MaxLogCount"] == 1024 and values["PackFlag"] is True
    values["Keys"].append("mutated")
    assert validate_params("p", PARAMS, {"Paths": []})["Keys"] == []


@pytest.mark.parametrize(
    ("config", "key", "reason"),
    [
        ({"MaxLogCount": 0}, "MaxLogCount", "at least 1"),
        ({"MaxLogCount": 5000}, "MaxLogCount", "at most 4096"),
        ({"MaxLogCount": "10"}, "MaxLogCount", "a whole number"),
        ({"MaxLogCount": True}, "MaxLogCount", "a whole number"),
        ({"PackFlag": "yes"}, "PackFlag", "true or false"),
        ({"Keys": ["a", 1]}, "Keys", "every item must be a string"),
        ({"Regex": "(unclosed"}, "Regex", "not a valid regular expression"),
        ({"Mode": "c"}, "Mode", "one of a, b"),
        ({"maxlogcount": 3}, "maxlogcount", "did you mean MaxLogCount?"),
        ({"Bogus": 3}, "Bogus", "unknown key"),
    ],
)
def test_each_problem_names_plugin_key_and_reason(config, key, reason):
    with pytest.raises(ConfigError) as e:
        validate_params("aggregator_x", PARAMS, {"Paths": [], **config})
    assert e.value.plugin == "aggregator_x"
    assert e.value.key == key
    assert reason in str(e.value)


def test_missing_required_and_several_problems_are_all_reported():
    with pytest.raises(ConfigError) as e:
        validate_params("p", PARAMS, {"MaxLogCount": -1, "Nope": 1})
    keys = {p.key for p in e.value.problems}
    assert keys == {"MaxLogCount", "Nope", "Paths"}
    assert "Paths: is required" in str(e.value)


def test_located_adds_file_and_line():
    err = ConfigError("bad", plugin="p", key="k").located("pipe.yml", 7)
    assert str(err) == "pipe.yml:7: p: k: bad"
