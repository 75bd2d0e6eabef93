import os
import tempfile

from solution import load_settings, parse_value


def _load_text(text, **kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "worker.conf")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return load_settings(path, **kwargs)


def _parse(text):
    try:
        return parse_value(text)
    except ValueError:
        return "rejected"
    except SyntaxError:
        return "SyntaxError"


def test_literals():
    return [_parse("-12"), _parse("3.25"), _parse("('a', 1)"), _parse("{'x': [1, 2]}"),
            _parse("false"), _parse(""), _parse("info")]


def test_code_in_value_is_not_executed():
    return _parse("[__import__('os').getpid() * 0]")


def test_expressions_are_not_evaluated():
    return [_parse("(2 ** 10)"), _parse("[len('abc')]"), _parse("'ab' * 3")]


def test_malformed_literal_rejected():
    return _parse("[1, 2")


def test_consecutive_loads_are_isolated():
    first = _load_text("region = 'eu-west'\nworkers = 2\n")
    second = _load_text("debug = true\n")
    return [sorted(first.items()), sorted(second.items()), first is second]


def test_explicit_base_settings_are_filled_in():
    base = {"port": 7000, "owner": "billing"}
    result = _load_text("workers = 16\n", settings=base)
    return [sorted(result.items()), result is base]


def test_missing_equals_sign():
    try:
        _load_text("port 9000\n")
    except ValueError as exc:
        return type(exc).__name__
    return "accepted"
