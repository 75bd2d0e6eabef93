import base64

from solution import COOKIE_NAME, SessionCodec

KEY = "0123456789abcdef0123456789abcdef-dashboard"
CALLS = []


def _side_effect():
    CALLS.append("called")
    return {"user": "attacker", "roles": ["admin"]}


class _Gadget:
    def __reduce__(self):
        return (_side_effect, ())


def test_round_trip_nested():
    codec = SessionCodec(KEY)
    session = {"user": "ana", "roles": ["viewer"], "prefs": {"tz": "UTC", "rows": 50}, "n": 3}
    return codec.loads(codec.dumps(session))


def test_unsigned_pickle_payload_is_never_deserialised():
    import pickle

    CALLS.clear()
    payload = base64.urlsafe_b64encode(pickle.dumps(_Gadget()))
    cookie = payload.decode() + "." + "0" * 64
    result = SessionCodec(KEY).loads(cookie)
    return [result, list(CALLS)]


def test_tampered_payload_rejected():
    codec = SessionCodec(KEY)
    cookie = codec.dumps({"user": "ana", "roles": ["viewer"]})
    payload, signature = cookie.rsplit(".", 1)
    forged = codec.dumps({"user": "ana", "roles": ["admin"]}).rsplit(".", 1)[0]
    return [codec.loads(forged + "." + signature), codec.loads(payload + "." + signature) != {}]


def test_garbage_cookies():
    codec = SessionCodec(KEY)
    return [codec.loads(c) for c in ("", None, ".", "abc.def", "%%%.%%%", "a.b.c", "\u00e9t\u00e9.x")]


def test_short_key_refused():
    try:
        SessionCodec("short")
    except ValueError:
        return "ValueError"
    return "accepted"


def test_set_cookie_header_attributes():
    codec = SessionCodec(KEY)
    header = codec.set_cookie_header({"user": "ana"})
    name, _, rest = header.partition("=")
    value, _, attributes = rest.partition("; ")
    return [name == COOKIE_NAME, codec.loads(value), attributes]
