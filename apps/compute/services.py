"""Compute's actions for other apps (the public surface): a deployment's server, started if need be."""

from __future__ import annotations

from apps.compute import client
from apps.compute.client import HostdUnavailable as HostdUnavailable
from apps.compute.client import ServerDown as ServerDown
from apps.compute.client import known_port as known_port
from apps.compute.client import server_port as server_port


def forget_port(deployment_pk: int) -> None:
    """Forget the port this process was given (its server refused a connection): the next ask goes to hostd."""
    client.forget(deployment_pk)
