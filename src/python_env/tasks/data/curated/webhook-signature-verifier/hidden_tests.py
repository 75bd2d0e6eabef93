import hashlib
import hmac

from solution import SignatureError, compute_signature, parse_header, verify

SECRET = "whsec_live_91c2"
OLD_SECRET = "whsec_live_0b7e"
BODY = b'{"id":"evt_42","type":"refund.created","amount":500}'
T = 1_710_000_000


def sign(secret, timestamp, body):
    payload = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _outcome(header, body=BODY, now=T + 10):
    try:
        return verify(SECRET, header, body, now=now)
    except SignatureError:
        return "SignatureError"


def test_compute_signature_matches_provider():
    return compute_signature(SECRET, T, BODY)


def test_valid_delivery():
    return _outcome(f"t={T},v1={sign(SECRET, T, BODY)}")


def test_rotation_second_signature_matches():
    header = f"t={T},v1={sign(OLD_SECRET, T, BODY)},v1={sign(SECRET, T, BODY)}"
    return _outcome(header)


def test_signature_for_other_timestamp_rejected():
    header = f"t={T + 1},v1={sign(SECRET, T, BODY)}"
    return _outcome(header, now=T + 1)


def test_wrong_secret_rejected():
    return _outcome(f"t={T},v1={sign(OLD_SECRET, T, BODY)}")


def test_future_timestamp_outside_window():
    return _outcome(f"t={T},v1={sign(SECRET, T, BODY)}", now=T - 301)


def test_parse_header_and_malformed():
    parsed = parse_header(f"t={T}, v1=abc, v1=def")
    try:
        bad = parse_header("t=now,v1=abc")
    except SignatureError:
        bad = "SignatureError"
    return [parsed, bad]


def test_non_ascii_signature_rejected_cleanly():
    return _outcome(f"t={T},v1=\u00e9{sign(SECRET, T, BODY)[1:]}")
