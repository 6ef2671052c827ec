"""Webhook signatures, pure (no Django): HMAC-SHA256 over ``"<timestamp>.<body>"``.

Every request carries ``X-Jiesu-Signature: t=<unix seconds>,v1=<hex digest>``. The receiver
recomputes the digest with the subscription's secret over the timestamp, a dot and the raw
body bytes, compares in constant time, and refuses a timestamp too far from its clock (replay
protection). The body is the same on every retry; the timestamp and signature are fresh.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Jiesu-Signature"
DELIVERY_HEADER = "X-Jiesu-Delivery"
EVENT_HEADER = "X-Jiesu-Event"
TOLERANCE_SECONDS = 300


def digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={int(timestamp)},v1={digest(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, *, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does; Jiesu's tests use it as their receiver."""
    parts = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), digest(secret, timestamp, body))
