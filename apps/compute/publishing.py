"""Deploying a build's compute output: static files to the hosting store, the server
bundle to the bucket, the server started, and only then the switch.

Called by the build runner when the build's output follows Amplify's deployment
specification (or is a Next.js app, adapted to it). A server that does not start
fails the build and never goes live: the branch keeps serving its previous deployment.
"""

from __future__ import annotations

import hashlib
import http.client
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.branches.models import Branch
from apps.builds.selectors import content_type_for
from apps.builds.services import BuildOutput, DeployFailed
from apps.compute import client
from apps.compute.bundles import BundleError, pack_bundle, store_bundle
from apps.compute.hosting_output import HostingOutput, find_manifest, read_hosting_output
from apps.compute.manifest import ManifestInvalid
from apps.compute.models import ComputeDeployment
from apps.compute.nextjs import AdapterError, adapt_nextjs, is_nextjs
from apps.hosting.models import Deployment
from apps.hosting.services import Published, SourceFile, hold_store_lock, publish

Say = Callable[[str], None]
SMOKE_TIMEOUT = 30.0


class ComputeDeployFailed(Exception):
    """The compute part could not be deployed; the message is for the job log."""


def compute_output(project: Path, base_directory: str, branch: Branch) -> HostingOutput | None:
    """The build's compute output: its deploy manifest, or Next.js adapted; None for a static site."""
    folder = find_manifest(project, base_directory)
    if folder is not None:
        return read_hosting_output(project, folder)
    # A Next.js app is server-rendered when its app or branch says so, or, as Amplify tells,
    # when its artifacts are `.next`; one exported as static files (`out`) stays a static site.
    server_rendered = (
        branch.app.platform == "WEB_COMPUTE" or branch.framework == "Next.js - SSR" or base_directory.strip("/") == ".next"
    )
    if server_rendered and is_nextjs(project, branch.app.platform, branch.framework):
        return adapt_nextjs(project)
    return None


def deploy_build_output(output: BuildOutput) -> Deployment | None:
    """The build runner's deployer (registered in apps.py): None when the output is a static site."""
    try:
        found = compute_output(output.project, str(output.artifacts.get("baseDirectory", "")), output.branch)
    except (ManifestInvalid, AdapterError) as error:
        raise DeployFailed(f"The build's server output cannot be deployed: {error}") from None
    if found is None:
        return None
    framework = found.manifest.framework or {}
    named = f", {framework.get('name')} {framework.get('version', '')}".rstrip() if framework else ""
    routes = len(found.manifest.routes)
    output.say(f"## Server-rendered app (WEB_COMPUTE{named}): {len(found.static_files)} static files, {routes} routes")
    total = sum(f.size for f in found.static_files)
    if total > settings.BUILD_ARTIFACT_MAX_BYTES:
        limit_mb = settings.BUILD_ARTIFACT_MAX_BYTES // (1024 * 1024)
        raise DeployFailed(f"The static files are {total // (1024 * 1024)} MB; the limit is {limit_mb} MB.")
    try:
        published = publish_compute(output.branch, output.job_pk, found, custom_headers=output.custom_headers(), say=output.say)
    except (BundleError, ComputeDeployFailed) as error:
        raise DeployFailed(f"Deploying the server failed: {error}") from None
    return published.deployment


def before_redeploy(branch: Branch, deployment: Deployment, say: Say) -> None:
    """The build runner's redeploy hook (registered in apps.py): a rollback's server starts first."""
    try:
        warm_if_compute(branch, deployment, say)
    except ComputeDeployFailed as error:
        raise DeployFailed(f"Deploying the server failed: {error}") from None


def publish_compute(branch: Branch, job_pk: int, output: HostingOutput, *, custom_headers: str, say: Say) -> Published:
    sources = [SourceFile(f.path, f.source, f.size, content_type_for(f.path)) for f in output.static_files]
    bundle = pack_bundle(output.compute_dir, settings.BUILD_ARTIFACT_MAX_BYTES) if output.compute_dir else None
    if bundle is not None:
        say(f"## Compute bundle: {output.compute_dir.name if output.compute_dir else ''} packed to {len(bundle) // 1024} KiB")

    def before_live(deployment: Deployment) -> None:
        if bundle is None or output.compute is None:
            raise ComputeDeployFailed("The deploy manifest routes to compute but names no compute resource.")
        digest = hashlib.sha256(bundle).hexdigest()
        with transaction.atomic():
            # Referenced before it is looked for in the bucket: the collector keeps it (retention.py).
            hold_store_lock()
            ComputeDeployment.objects.create(
                deployment=deployment,
                manifest=output.manifest.to_json(),
                bundle_sha256=digest,
                bundle_bytes=len(bundle),
                runtime=output.compute.runtime,
                entrypoint=output.compute.entrypoint,
            )
        _, uploaded = store_bundle(bundle)
        say(f"## Compute bundle {digest[:12]} {'stored' if uploaded else 'already stored'} in the hosting bucket")
        warm(branch, deployment, say)

    return publish(branch, job_pk, sources, custom_headers=custom_headers, say=say, before_live=before_live)


def warm_if_compute(branch: Branch, deployment: Deployment, say: Say) -> None:
    """Before a kept deployment is served again (a rollback): start its server if it has one."""
    if ComputeDeployment.objects.filter(deployment=deployment).exists():
        warm(branch, deployment, say)


def warm(branch: Branch, deployment: Deployment, say: Say) -> None:
    """Start the new server on this machine and ask it for `/` before traffic moves to it."""
    started = time.monotonic()
    try:
        port = client.server_port(deployment.pk, fresh=True)
    except client.HostdUnavailable as error:
        say(f"## Warning: {error} The first request to the branch will start the server.")
        return
    except client.ServerDown as down:
        output = f"\n{down.output}" if down.output else ""
        raise ComputeDeployFailed(f"The server did not start: {down}{output}") from None
    say(f"## Server started on this machine in {(time.monotonic() - started) * 1000:.0f} ms")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SMOKE_TIMEOUT)
    try:
        connection.request(
            "GET",
            "/",
            headers={
                "Host": f"{branch.hostname_label}.{branch.app.default_domain}",
                "User-Agent": "amplify-console-deploy-check",
            },
        )
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as error:
        raise ComputeDeployFailed(f"The server did not answer GET /: {error}") from None
    finally:
        connection.close()
    say(f"## Server answered GET / with {response.status} {response.reason}")
    if response.status >= 500:
        raise ComputeDeployFailed(f"The server answered GET / with {response.status}: the deployment is not made live.")
