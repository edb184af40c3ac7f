"""Moving deployments made before the hosting bucket (bytes in the database) into it.

Each file's bytes become the bucket's object for their hash and the row keeps
only the manifest; one file at a time, each in its own transaction (holding the
store lock while its object is looked up and written: a one-off job), so the
command can be stopped and run again and carries on where it stopped. Files are
served from the database until moved, so a site never breaks on the way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from apps.hosting import store
from apps.hosting.models import DeployedFile
from apps.hosting.publishing import hold_store_lock


def move_files_to_bucket(say: Callable[[str], None] = lambda _line: None) -> int:
    """Move every file still held in the database; the number moved."""
    store.ensure_bucket()
    moved = 0
    pending = DeployedFile.objects.filter(sha256="").exclude(content=None).values_list("pk", flat=True)
    with tempfile.TemporaryDirectory(prefix="hosting-move-") as folder:
        spool = Path(folder) / "file"
        for pk in list(pending.iterator()):
            with transaction.atomic():
                # Under the store lock: the object looked up (or written) below is referenced
                # before a collector could judge an old copy of it unreferenced (retention.py).
                hold_store_lock()
                row = DeployedFile.objects.select_for_update().filter(pk=pk, sha256="").first()
                if row is None:
                    continue  # another run moved it meanwhile
                spool.write_bytes(bytes(row.content or b""))
                stored = store.store_file(spool, row.content_type)
                DeployedFile.objects.filter(pk=pk).update(sha256=stored.sha256, encodings=stored.encodings, content=None)
            moved += 1
            if moved % 500 == 0:
                say(f"{moved} files moved")
    return moved
