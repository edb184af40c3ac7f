from __future__ import annotations

from apps.branches.models.apps import BUCKET, USER_POOL, App, Branch, EnvironmentVariable
from apps.branches.models.git import GitDelivery, Teardown
from apps.branches.models.jobs import BuildCache, DeployedFile, Deployment, Job, JobStep, LogChunk, Webhook
from apps.branches.models.remote import RepositoryHeads, StackRead

__all__ = [
    "BUCKET",
    "USER_POOL",
    "App",
    "Branch",
    "BuildCache",
    "DeployedFile",
    "Deployment",
    "EnvironmentVariable",
    "GitDelivery",
    "Job",
    "JobStep",
    "LogChunk",
    "RepositoryHeads",
    "StackRead",
    "Teardown",
    "Webhook",
]
