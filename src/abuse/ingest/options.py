"""The limits ingest applies, taken from the settings (see ``abuse.settings.Settings``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_PII_KEY = "abuse-default-pii-key: set ABUSE_PII_HASH_KEY"


@dataclass(frozen=True)
class IngestOptions:
    # A field (one CSV cell, one JSON value) longer than this many UTF-8 bytes quarantines its
    # record: nothing of that size is a real log value, and it would bloat every table after.
    max_field_bytes: int = 1 << 20
    # Timestamps before this day (platform-local midnight) cannot be real events.
    earliest: date = date(2000, 1, 1)
    # Timestamps later than the delivery (the run's start) plus this much are quarantined.
    future_tolerance: timedelta = timedelta(days=2)
    # Key of the HMAC-SHA256 that replaces a raw mobile number delivered in phone_hash.
    pii_key: str = DEFAULT_PII_KEY
    # Endpoint of the S3-compatible store of an ``s3://`` landing (None: AWS_ENDPOINT_URL, else AWS).
    endpoint_url: str | None = None

    @classmethod
    def from_settings(cls, settings: object) -> "IngestOptions":
        """From an ``abuse.settings.Settings`` (fields missing there keep their defaults)."""
        d = cls()
        key = getattr(settings, "pii_hash_key", None)
        if key is not None and hasattr(key, "get_secret_value"):
            key = key.get_secret_value()
        return cls(
            max_field_bytes=getattr(settings, "max_field_bytes", d.max_field_bytes),
            earliest=getattr(settings, "earliest_timestamp", d.earliest),
            future_tolerance=timedelta(days=getattr(settings, "future_tolerance_days", d.future_tolerance.days)),
            pii_key=key or os.environ.get("ABUSE_PII_HASH_KEY") or d.pii_key,
            endpoint_url=getattr(settings, "landing_endpoint_url", None),
        )
