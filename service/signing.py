"""HMAC-signed values in Redis: the runtime config, its audit trail and OCR cache entries.

Anything that can reach Redis can write to it; a replica must not take thresholds, a policy, an
audit entry or a page's words from it unless a replica wrote them. Every such value is stored as
an envelope {"body": ..., "mac": ...}: HMAC-SHA256 under DOCEXIT_CONFIG_SIGNING_KEY (shared by
the replicas, distinct from the admin token) over the value's purpose and its body. The purpose
binds a value to where it belongs (the config key, the audit list, one page's cache key), so a
valid value copied elsewhere does not verify either."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Literal

Reason = Literal["signature", "malformed"]
MIN_KEY = 32  # characters: a key an attacker on the network cannot guess offline


class UnverifiedError(ValueError):
    """A stored value that no replica signed (or that was altered since)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason


class Signer:
    """Seals with `key`; opens what `key` or any of `also_accept` sealed (a key rotation's other
    key, so that replicas on either side of it trust each other's values)."""

    def __init__(self, key: str, also_accept: tuple[str, ...] = ()) -> None:
        if any(len(k) < MIN_KEY for k in (key, *also_accept)):
            raise ValueError(f"the signing key needs at least {MIN_KEY} characters")
        self._key = key.encode()
        self._keys = [self._key, *(k.encode() for k in also_accept)]

    @staticmethod
    def _mac_with(key: bytes, purpose: str, body: str) -> str:
        message = f"docexit/v1/{purpose}\n{body}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def _mac(self, purpose: str, body: str) -> str:
        return self._mac_with(self._key, purpose, body)

    def seal(self, purpose: str, body: str) -> str:
        """The envelope to store for `body` at `purpose`."""
        return json.dumps({"body": body, "mac": self._mac(purpose, body)})

    def open(self, purpose: str, raw: str | bytes) -> str:
        """The body of an envelope this key sealed for `purpose`; UnverifiedError otherwise."""
        try:
            envelope = json.loads(raw)
            body, mac = envelope["body"], envelope["mac"]
        except (ValueError, KeyError, TypeError) as exc:
            raise UnverifiedError("malformed", "not a signed envelope") from exc
        if not isinstance(body, str) or not isinstance(mac, str):
            raise UnverifiedError("malformed", "not a signed envelope")
        if not any(hmac.compare_digest(mac, self._mac_with(k, purpose, body)) for k in self._keys):
            raise UnverifiedError("signature", "its signature does not verify")
        return body


def unsigned_body(raw: str | bytes) -> str | None:
    """What an envelope claims, unverified (to show a refused audit entry for what it is)."""
    try:
        body = json.loads(raw)["body"]
    except (ValueError, KeyError, TypeError):
        return raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    return body if isinstance(body, str) else None
