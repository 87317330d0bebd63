"""The envelope every event travels in (contract section 7), reading one back, and
redacting the secrets a stored copy must not keep."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: What a secret in the stored copy of an event's data is replaced with once no longer needed.
REDACTED = "[redacted]"


class MalformedEvent(ValueError):
    """A message that is not an event envelope: dead-lettered, never handled."""


@dataclass(frozen=True, kw_only=True)
class Event:
    """One event: ``type`` is ``<entity>.<past participle>`` (``order.confirmed``).

    ``data`` carries ids and the facts a consumer needs, never a model dump;
    ``version`` changes when ``data`` changes in a way an old consumer misreads.
    """

    type: str
    data: dict[str, Any]
    source: str
    version: int = 1
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    request_id: str = "-"
    traceparent: str = ""

    def envelope(self) -> dict[str, Any]:
        """The envelope as JSON-ready values, in the contract's field order."""
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "source": self.source,
            "request_id": self.request_id,
            "traceparent": self.traceparent,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.envelope(), separators=(",", ":")).encode()

    @classmethod
    def from_envelope(cls, envelope: Any) -> Event:
        """The event an envelope describes; :class:`MalformedEvent` if it describes none."""
        if not isinstance(envelope, dict):
            raise MalformedEvent("the message is not a JSON object")
        try:
            event_id = uuid.UUID(envelope["id"])
            occurred_at = datetime.fromisoformat(envelope["occurred_at"])
            kind, source, data = envelope["type"], envelope["source"], envelope["data"]
            version = envelope["version"]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"not an event envelope: {exc!r}") from None
        if not (isinstance(kind, str) and isinstance(source, str) and isinstance(data, dict)):
            raise MalformedEvent("type and source must be strings, data an object")
        if type(version) is not int or occurred_at.tzinfo is None:
            raise MalformedEvent("version must be an integer, occurred_at have a time zone")
        return cls(
            id=event_id,
            type=kind,
            version=version,
            occurred_at=occurred_at,
            source=source,
            request_id=str(envelope.get("request_id") or "-"),
            traceparent=str(envelope.get("traceparent") or ""),
            data=data,
        )

    @classmethod
    def from_json(cls, body: bytes | str) -> Event:
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedEvent(f"not JSON: {exc}") from None
        return cls.from_envelope(envelope)


def new_traceparent() -> str:
    """A W3C ``traceparent`` starting a new trace, for an event no trace was current for.

    Its ids come from ``random``, as OpenTelemetry's own are: they must be unique, not
    unguessable, and the gateway starts a trace for every request (no system call each).
    """
    trace_id, parent_id = random.getrandbits(128) or 1, random.getrandbits(64) or 1
    return f"00-{trace_id:032x}-{parent_id:016x}-01"


def secret_keys(keys: Collection[str]) -> frozenset[str]:
    """``keys``, names of keys of an event's data that are secret, as a set.

    A bare string is refused (``secrets="payment_token"`` would name its letters).
    """
    if isinstance(keys, str):
        raise TypeError(f"secret keys are a collection of names, not the string {keys!r}")
    if not all(isinstance(key, str) and key for key in keys):
        raise TypeError(f"secret keys are names (non-empty strings): {keys!r}")
    return frozenset(keys)


def envelope_redacted(envelope: dict[str, Any], keys: Collection[str]) -> dict[str, Any]:
    """``envelope`` with each of the data keys ``keys`` it holds replaced by :data:`REDACTED`.

    A new envelope, the given one left as it is; the same one when there is nothing to
    replace (no such key, each already redacted, or data that is no object). Keys the
    data does not hold are not added; only the data's own keys are looked at.
    """
    data = envelope.get("data")
    if not isinstance(data, dict):
        return envelope
    replaced = {key: REDACTED for key in keys if key in data and data[key] != REDACTED}
    if not replaced:
        return envelope
    return {**envelope, "data": {**data, **replaced}}
