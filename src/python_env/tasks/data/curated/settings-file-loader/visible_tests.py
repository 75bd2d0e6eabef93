import os
import tempfile

from solution import load_settings, parse_value


def _write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def test_typed_values():
    assert parse_value(" 9000 ") == 9000
    assert parse_value("TRUE") is True
    assert parse_value('"api"') == "api"
    assert parse_value('["eu-west", "us-east"]') == ["eu-west", "us-east"]
    assert parse_value("plain words") == "plain words"


def test_file_with_defaults():
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "a.conf", "# api worker\nPORT = 9000\n\ndebug = true\n")
        settings = load_settings(path)
    assert settings == {"port": 9000, "debug": True, "workers": 4, "log_level": "info"}


def test_files_loaded_independently():
    with tempfile.TemporaryDirectory() as tmp:
        first = load_settings(_write(tmp, "a.conf", "region = 'eu-west'\n"))
        second = load_settings(_write(tmp, "b.conf", "workers = 8\n"))
    assert first["region"] == "eu-west"
    assert "region" not in second, "settings from a.conf leaked into b.conf"
