"""Signed, cookie-backed sessions for the admin dashboard.

The whole session dict travels in the ``dash_session`` cookie as ``<payload>.<signature>``,
where the payload is URL-safe base64 and the signature an HMAC-SHA256 of the payload keyed
with the dashboard's secret key. A cookie that fails to decode yields an empty session.
"""

import base64
import hashlib
import hmac
import pickle

COOKIE_NAME = "dash_session"


class SessionCodec:
    """Encodes sessions into cookie values and back."""

    def __init__(self, secret_key):
        if len(secret_key) < 32:
            raise ValueError("secret key must be at least 32 characters")
        self._key = secret_key.encode()

    def _sign(self, payload):
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest().encode()

    def dumps(self, session):
        """Cookie value for ``session`` (a dict of strings, numbers, lists)."""
        payload = base64.urlsafe_b64encode(pickle.dumps(session))
        return (payload + b"." + self._sign(payload)).decode()

    def loads(self, cookie):
        """Session stored in ``cookie``; an empty dict if the cookie is missing or invalid."""
        if not cookie:
            return {}
        try:
            payload, signature = cookie.encode().rsplit(b".", 1)
            session = pickle.loads(base64.urlsafe_b64decode(payload))
            if not hmac.compare_digest(signature, self._sign(payload)):
                return {}
            return session
        except:
            return {}

    def set_cookie_header(self, session):
        """``Set-Cookie`` header value carrying ``session``."""
        value = self.dumps(session)
        return f"{COOKIE_NAME}={value}; Path=/admin; HttpOnly; Secure; SameSite=Strict"
