"""What other apps may read of storage: the buckets a branch's outputs name."""

from __future__ import annotations

from apps.storage.buckets import outputs_buckets as outputs_buckets
