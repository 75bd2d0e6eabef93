"""Authenticates webhook deliveries from our payment provider.

Every delivery carries a ``Provider-Signature`` header such as ``t=1700000000,v1=5257a8...``.
``t`` is the unix time the provider signed the delivery and each ``v1`` is a hex HMAC-SHA256,
keyed with the endpoint secret, of the bytes ``b"<t>." + body``. During a secret rotation the
header carries one ``v1`` per active secret; the delivery is authentic if any of them matches.
"""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The delivery could not be authenticated and must be rejected."""


def parse_header(header):
    """Return ``(timestamp, [signatures])`` from a signature header."""
    fields = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed header element: {part!r}")
        fields.setdefault(key, []).append(value)
    if "t" not in fields or "v1" not in fields:
        raise SignatureError("header lacks a timestamp or a v1 signature")
    try:
        timestamp = int(fields["t"][0])
    except ValueError as exc:
        raise SignatureError("timestamp is not an integer") from exc
    return timestamp, fields["v1"]


def compute_signature(secret, timestamp, body):
    """Hex signature the provider would send for ``body`` signed at ``timestamp``."""
    signed_payload = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed_payload, hashlib.sha256).hexdigest()


def verify(secret, header, body, now=None):
    """Return True for an authentic, fresh delivery; raise SignatureError otherwise."""
    timestamp, signatures = parse_header(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside the tolerance window")
    expected = compute_signature(secret, timestamp, body).encode()
    if not any(hmac.compare_digest(candidate.encode(), expected) for candidate in signatures):
        raise SignatureError("no signature matches the payload")
    return True
