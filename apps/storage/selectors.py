"""What other apps may read of storage: the buckets a branch's outputs name (and those an
admin added), and the checks an upload into one of them goes through."""

from __future__ import annotations

from apps.storage.buckets import Bucket as Bucket
from apps.storage.buckets import branch_buckets as branch_buckets
from apps.storage.buckets import bucket_get as bucket_get
from apps.storage.buckets import outputs_buckets as outputs_buckets
from apps.storage.keys import key_problem as key_problem
from apps.storage.keys import preview_kind as preview_kind
from apps.storage.keys import upload_content_type as upload_content_type
from apps.storage.uploads import size_problem as size_problem
