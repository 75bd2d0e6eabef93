"""Issues and redeems single-use password-reset tokens for the customer web app.

The token is mailed to the user as part of a reset link; whoever presents it before it
expires may set a new password for the account.
"""

import secrets
import string
import time

TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 32
TOKEN_TTL_SECONDS = 15 * 60


class ResetTokenIssuer:
    """Keeps pending tokens in memory; one instance per app process."""

    def __init__(self, clock=time.time):
        self._clock = clock
        self._pending = {}

    def issue(self, user_id):
        """Create a token for ``user_id``; earlier tokens of that user stay valid."""
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        self._pending[token] = (user_id, self._clock() + TOKEN_TTL_SECONDS)
        return token

    def redeem(self, token):
        """Consume ``token``; return its user id, or None if unknown or expired."""
        entry = self._pending.pop(token, None)
        if entry is None:
            return None
        user_id, expires_at = entry
        if self._clock() > expires_at:
            return None
        return user_id

    def revoke_user(self, user_id):
        """Invalidate every pending token of ``user_id``; return how many were removed."""
        tokens = [t for t, (uid, _) in self._pending.items() if uid == user_id]
        for token in tokens:
            del self._pending[token]
        return len(tokens)

    def purge_expired(self):
        """Drop expired tokens; return how many were dropped."""
        now = self._clock()
        expired = [t for t, (_, expires_at) in self._pending.items() if expires_at < now]
        for token in expired:
            del self._pending[token]
        return len(expired)

    def pending_count(self):
        return len(self._pending)
