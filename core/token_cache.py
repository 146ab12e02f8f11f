"""Tokens already verified, so a client that sends the same token on every request pays
for its signature check once. An entry lives until the token's `exp`, never longer, and
the cache holds at most `max_entries` (the oldest go first)."""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class Verified:
    user_id: str
    expires_at: float
    kid: str | None


class TokenCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, Verified] = {}

    def get(self, token: str, now: float) -> Verified | None:
        entry = self._entries.get(token)
        if entry is not None and now >= entry.expires_at:
            self._entries.pop(token, None)
            return None
        return entry

    def put(self, token: str, entry: Verified) -> None:
        if self.max_entries <= 0:
            return
        while len(self._entries) >= self.max_entries:
            try:  # dicts keep insertion order: the first key is the oldest
                self._entries.pop(next(iter(self._entries)), None)
            except (StopIteration, RuntimeError):  # emptied or resized by another thread
                break
        self._entries[token] = entry

    def forget_keys(self, kids: set[str]) -> None:
        """Drop tokens signed by keys the issuer no longer publishes."""
        if kids:
            for token, entry in list(self._entries.items()):
                if entry.kid in kids:
                    self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)
