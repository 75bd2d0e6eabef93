"""User accounts for the internal tools portal, persisted in a single sqlite table."""

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str


class UserStore:
    """Thin data-access layer over the ``users`` table."""

    def __init__(self, path=":memory:"):
        self._conn = sqlite3.connect(path)
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS users ("
            "id INTEGER PRIMARY KEY, "
            "username TEXT UNIQUE NOT NULL, "
            "email TEXT NOT NULL)"
        )

    def add(self, username, email):
        with self._conn:
            cur = self._conn.execute(
                "INSERT INTO users (username, email) VALUES (?, ?)", (username, email)
            )
        return User(cur.lastrowid, username, email)

    def find_by_username(self, username):
        row = self._conn.execute(
            "SELECT id, username, email FROM users WHERE username = ?", (username,)
        ).fetchone()
        return User(*row) if row else None

    def get(self, user_id):
        row = self._conn.execute(
            "SELECT id, username, email FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        return User(*row) if row else None

    def change_email(self, user_id, email):
        with self._conn:
            cur = self._conn.execute(
                "UPDATE users SET email = ? WHERE id = ?", (email, user_id)
            )
        return cur.rowcount == 1

    def delete(self, user_id):
        with self._conn:
            cur = self._conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return cur.rowcount == 1

    def count(self):
        return self._conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def close(self):
        self._conn.close()
