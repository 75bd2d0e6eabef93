"""Loads worker settings from ``KEY = VALUE`` files, with typed values.

Values may be numbers, booleans (``true``/``false``), quoted strings, or list/dict/tuple
literals such as ``["eu-west", "us-east"]``; anything else is kept as a bare string. Lines
starting with ``#`` are comments. Keys are case-insensitive and stored lower-case.
"""

DEFAULTS = {"port": 8080, "debug": False, "workers": 4, "log_level": "info"}
LITERAL_STARTS = ("[", "{", "(", '"', "'")


class SettingsError(ValueError):
    """A settings file could not be parsed."""


def parse_value(raw):
    """Turn the text to the right of ``=`` into a Python value."""
    text = raw.strip()
    if not text:
        return ""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.startswith(LITERAL_STARTS) or text.lstrip("+-").replace(".", "", 1).isdigit():
        return eval(text)
    return text


def load_settings(path, settings={}):
    """Read ``path`` into ``settings`` (defaults filled in) and return the result."""
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    with open(path, encoding="utf-8") as fh:
        for lineno, raw_line in enumerate(fh, start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise SettingsError(f"{path}:{lineno}: expected KEY = VALUE")
            settings[key.strip().lower()] = parse_value(value)
    return settings
