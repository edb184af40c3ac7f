from __future__ import annotations

from apps.branches.fields import OutputsDocumentField
from apps.branches.models.apps import BUCKET, USER_POOL, App, Branch, EnvironmentVariable
from apps.branches.models.remote import RepositoryHeads, StackRead

__all__ = ["BUCKET", "USER_POOL", "App", "Branch", "EnvironmentVariable", "OutputsDocumentField", "RepositoryHeads", "StackRead"]
