"""Tokens already verified, so a client that sends the same token on every request pays
for its signature check once. An entry lives until the token's `exp`, never longer, and
the cache holds at most `max_entries` (the oldest go first).

Server threads share one cache: every change to it is made under a lock (a dict may
not change size while another thread takes its oldest key); a hit reads without one.
"""

from __future__ import annotations

import threading

import attrs

from core import settings_table as table


@attrs.frozen(slots=True)
class Verified:
    user_id: str
    expires_at: float
    kid: str | None


class TokenCache:
    def __init__(self, max_entries: int = table.TOKEN_CACHE_SIZE.default) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, Verified] = {}
        self._changing = threading.Lock()

    def get(self, token: str, now: float) -> Verified | None:
        entry = self._entries.get(token)
        if entry is not None and now >= entry.expires_at:
            with self._changing:
                self._entries.pop(token, None)
            return None
        return entry

    def put(self, token: str, entry: Verified) -> None:
        if self.max_entries <= 0:
            return
        with self._changing:
            while self._entries and len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # insertion order: the first is the oldest
            self._entries[token] = entry

    def forget_keys(self, kids: set[str]) -> None:
        """Drop tokens signed by keys the issuer no longer publishes."""
        if kids:
            with self._changing:
                for token in [token for token, entry in self._entries.items() if entry.kid in kids]:
                    del self._entries[token]

    def __len__(self) -> int:
        return len(self._entries)
