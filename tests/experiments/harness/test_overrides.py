"""``--set key=value``: values parsed by the Config field's type; unknown keys and bad values are one-line errors."""

from __future__ import annotations

import pytest

from scratchnn.experiments.harness.overrides import apply_overrides, parse_set_args

from ..toy import Config


@pytest.mark.parametrize(
    "key,text,expected",
    [
        ("steps", "10_000", 10000),
        ("limit", " -2 ", -2),
        ("lr", "1e-3", 1e-3),
        ("lr", "3", 3.0),
        ("flag", "True", True),
        ("flag", "no", False),
        ("flag", "0", False),
        ("label", "a b=c", "a b=c"),
        ("mode", "b", "b"),
        ("dims", "64,32", (64, 32)),
        ("dims", "(64, 32)", (64, 32)),
        ("dims", "[8]", (8,)),
        ("dims", "(3,)", (3,)),
        ("dims", "()", ()),
        ("pair", "0.5,2", (0.5, 2.0)),
        ("names", "relu,tanh", ["relu", "tanh"]),
        ("limit", "none", None),
        ("limit", "Null", None),
        ("limit", "7", 7),
    ],
)
def test_values_are_parsed_by_the_field_type(key: str, text: str, expected: object) -> None:
    config = apply_overrides(Config(), {key: text})
    value = getattr(config, key)
    assert value == expected
    assert type(value) is type(expected)


def test_other_fields_keep_their_values_and_the_original_is_untouched() -> None:
    base = Config()
    config = apply_overrides(base, {"lr": "0.25", "dims": "1,2,3"})
    assert (config.lr, config.dims, config.steps, config.label) == (0.25, (1, 2, 3), 3, "toy")
    assert (base.lr, base.dims) == (0.5, (4, 2))


def test_python_values_pass_through_unparsed() -> None:
    assert apply_overrides(Config(), {"dims": (9,), "lr": 2}).dims == (9,)


@pytest.mark.parametrize(
    "key,text,message",
    [
        ("steps", "1.5", "Invalid value for `steps`: expected an int. Received: steps='1.5'"),
        ("steps", "many", "Invalid value for `steps`: expected an int. Received: steps='many'"),
        ("lr", "fast", "Invalid value for `lr`: expected a float. Received: lr='fast'"),
        ("flag", "maybe", "Invalid value for `flag`: expected a bool (true or false). Received: flag='maybe'"),
        ("mode", "c", "Invalid value for `mode`: expected one of 'a', 'b'. Received: mode='c'"),
        ("dims", "64,x", "Invalid value for `dims`: expected comma-separated ints. Received: dims='64,x'"),
        (
            "pair",
            "1,2,3",
            "Invalid value for `pair`: expected 2 comma-separated items (float, float). Received: pair='1,2,3'",
        ),
        ("limit", "lots", "Invalid value for `limit`: expected an int or none. Received: limit='lots'"),
    ],
)
def test_ill_typed_values_name_the_key_the_type_and_the_value(key: str, text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        apply_overrides(Config(), {key: text})
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"^Invalid value for `--set`: expected a key of the toy config \(steps, lr, "
        r"flag, label, mode, dims, pair, names, limit\)\. Received: --set='stpes=3'$",
    ):
        apply_overrides(Config(), {"stpes": "3"}, experiment="toy")


def test_config_checks_run_on_overridden_values() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `steps`: expected an int >= 1\. Received: steps=0"):
        apply_overrides(Config(), {"steps": "0"})


def test_set_args_split_at_the_first_equals_sign() -> None:
    assert parse_set_args(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    assert parse_set_args(None) == {}
    with pytest.raises(ValueError, match=r"^Invalid value for `--set`: expected key=value\. Received: --set='lr'$"):
        parse_set_args(["lr"])
    with pytest.raises(ValueError, match="expected key=value"):
        parse_set_args(["=3"])
