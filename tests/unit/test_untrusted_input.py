"""shared/untrusted_input: the nesting bound counts only structure (not brackets inside strings), integers are ASCII."""

from __future__ import annotations

import json

import pytest

from shared.untrusted_input import MAX_DEPTH, JsonInputError, ascii_int, loads_bounded


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_the_bound_is_inclusive_and_the_error_names_it():
    assert loads_bounded(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))
    with pytest.raises(JsonInputError, match="nests deeper than 64 levels"):
        loads_bounded(nested(MAX_DEPTH + 1))
    with pytest.raises(JsonInputError, match="nests deeper than 64 levels"):
        loads_bounded(nested(200_000))  # far past the parser's recursion limit: still a clean error


def test_brackets_and_escaped_quotes_inside_strings_are_not_structure():
    text = json.dumps({"a": "[" * 500, "b": "\\\"{{{{" * 100, "c": [[1]]})
    assert loads_bounded(text)["c"] == [[1]]


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbf{\"a\": 1}", "{\"a\": 1}".encode("utf-16"), "{\"a\": 1}"])
def test_bytes_are_decoded_as_json_loads_decodes_them(raw):
    assert loads_bounded(raw) == {"a": 1}


@pytest.mark.parametrize("raw, problem", [(b"{\"a\": \"\xff\"}", "is not UTF-8 text"), ("{", "is not valid JSON"),
                                          ("[" + "1" * 5000 + "]", "is not valid JSON")])
def test_undecodable_or_invalid_text_is_a_json_input_error(raw, problem):
    with pytest.raises(JsonInputError, match=problem):
        loads_bounded(raw)


@pytest.mark.parametrize("value, expected", [("12", 12), (" 7 ", 7), ("²", None), ("١٢", None), ("１０", None),
                                             ("-1", None), ("1e3", None), ("", None), ("9" * 19, None)])
def test_ascii_int_reads_ascii_digits_only(value, expected):
    assert ascii_int(value) == expected
