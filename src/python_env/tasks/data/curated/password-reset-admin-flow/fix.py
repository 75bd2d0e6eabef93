"""Password-reset flow for the customer portal.

A reset token is mailed to the account owner; only a digest of it is kept, so a leaked
database does not hand out live reset links. Support administrators can also start a reset
on behalf of a customer. Passwords themselves are stored by the ``set_password`` callback.
"""

import hashlib
import secrets
import time

RESET_TTL_MINUTES = 30


class ResetError(Exception):
    """The reset was refused; the message is safe to show to the caller."""


class PasswordResetFlow:
    def __init__(self, accounts, set_password, clock=time.time):
        """``accounts`` maps email -> {"admin": bool, "active": bool}."""
        self._accounts = accounts
        self._set_password = set_password
        self._clock = clock
        self._pending = {}  # token digest -> (email, expires_at)

    @staticmethod
    def _digest(token):
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, email):
        """Create a reset token for ``email``; None if there is no active account."""
        account = self._accounts.get(email)
        if account is None or not account["active"]:
            return None
        token = secrets.token_urlsafe(32)
        expires_at = self._clock() + RESET_TTL_MINUTES * 60
        self._pending[self._digest(token)] = (email, expires_at)
        return token

    def complete(self, token, new_password):
        """Set ``new_password`` for the owner of ``token``; return the account email."""
        if len(new_password) < 12:
            raise ResetError("password must be at least 12 characters")
        entry = self._pending.pop(self._digest(token), None)
        if entry is None:
            raise ResetError("unknown or already used reset link")
        email, expires_at = entry
        if self._clock() > expires_at:
            raise ResetError("reset link has expired")
        self._set_password(email, new_password)
        return email

    def start_for(self, admin_email, customer_email):
        """Support tool: an admin starts a reset; the tool mails the token to the customer."""
        admin = self._accounts.get(admin_email)
        if admin is None or not (admin["active"] and admin["admin"]):
            raise ResetError("admins only")
        return self.start(customer_email)

    def pending_for(self, email):
        """How many unexpired reset links ``email`` currently has."""
        now = self._clock()
        return sum(1 for owner, exp in self._pending.values() if owner == email and exp >= now)
