import hashlib
import hmac

from solution import SignatureError, verify

SECRET = "whsec_test_4f9a"
BODY = b'{"id":"evt_1","type":"payment.succeeded","amount":1250}'
T = 1_700_000_000


def sign(secret, timestamp, body):
    payload = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def test_valid_delivery_accepted():
    header = f"t={T},v1={sign(SECRET, T, BODY)}"
    assert verify(SECRET, header, BODY, now=T + 5) is True


def test_tampered_body_rejected():
    header = f"t={T},v1={sign(SECRET, T, BODY)}"
    try:
        verify(SECRET, header, BODY.replace(b"1250", b"9999"), now=T + 5)
    except SignatureError:
        return
    raise AssertionError("tampered body was accepted")


def test_stale_delivery_rejected():
    header = f"t={T},v1={sign(SECRET, T, BODY)}"
    try:
        verify(SECRET, header, BODY, now=T + 3600)
    except SignatureError:
        return
    raise AssertionError("stale delivery was accepted")
