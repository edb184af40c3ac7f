"""The network guard: builds with the network on share the host's network, so the
host's firewall keeps them off the console's own addresses.

Builds (and compute servers) run as host users of their own (BUILD_UID_BASE ..,
COMPUTE_UID_BASE ..), which iptables' owner
match tells apart from the console. For those users only, the OUTPUT chain jumps to
BUILD_GUARD_CHAIN (AMPLIFY-BUILDS), which rejects every address of this host (the web port, the
database, Redis, the emulator's other ports), the link-local metadata service
(169.254.169.254, fd00:ec2::254) and BUILD_BLOCKED_NETWORKS, and lets through only
the AWS endpoint the console hands to builds when that endpoint is on this host.
The chain is replaced atomically (iptables-restore), so another worker's
refresh never opens a gap.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import threading
from urllib.parse import urlsplit

from django.conf import settings

_METADATA = {4: ["169.254.0.0/16"], 6: ["fe80::/10", "fd00:ec2::254/128"]}
_lock = threading.Lock()


class NetworkGuardError(Exception):
    pass


def guard_required() -> bool:
    return settings.BUILD_NETWORK_GUARD != "off"


def _uid_ranges() -> list[str]:
    """The host uids the chain applies to: builds', and compute servers' (apps.compute)."""
    return [
        f"{settings.BUILD_UID_BASE}-{settings.BUILD_UID_BASE + settings.BUILD_UID_COUNT - 1}",
        f"{settings.COMPUTE_UID_BASE}-{settings.COMPUTE_UID_BASE + settings.COMPUTE_UID_COUNT - 1}",
    ]


def _allowed_endpoints() -> list[tuple[int, str, int]]:
    """(ip version, address, port) of the AWS endpoint builds are given, if it is set."""
    url = settings.AWS_ENDPOINT_URL
    if not url:
        return []
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", port, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    found = {(6 if info[0] == socket.AF_INET6 else 4, str(info[4][0]), port) for info in infos}
    return sorted(found)


def _blocked_networks() -> dict[int, list[str]]:
    blocked: dict[int, list[str]] = {4: list(_METADATA[4]), 6: list(_METADATA[6])}
    for cidr in settings.BUILD_BLOCKED_NETWORKS:
        network = ipaddress.ip_network(cidr, strict=False)
        blocked[network.version].append(str(network))
    return blocked


def chain() -> str:
    """This console's chain (BUILD_GUARD_CHAIN): consoles sharing a host keep theirs apart."""
    return str(settings.BUILD_GUARD_CHAIN)


def rules(version: int) -> str:
    """The iptables-restore text of the chain for IPv4 or IPv6."""
    name = chain()
    reject = "icmp-port-unreachable" if version == 4 else "icmp6-port-unreachable"
    lines = ["*filter", f":{name} - [0:0]"]
    # Replies on connections others opened to a guarded process (the console proxying to a
    # compute server's port) are not new traffic: only what the process itself starts is judged.
    lines.append(f"-A {name} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
    for ip_version, address, port in _allowed_endpoints():
        if ip_version == version:
            lines.append(f"-A {name} -d {address} -p tcp --dport {port} -j RETURN")
    lines.append(f"-A {name} -p tcp -m addrtype --dst-type LOCAL -j REJECT --reject-with tcp-reset")
    lines.append(f"-A {name} -m addrtype --dst-type LOCAL -j REJECT --reject-with {reject}")
    for network in _blocked_networks()[version]:
        lines.append(f"-A {name} -d {network} -j REJECT --reject-with {reject}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)


def ensure_guard() -> None:
    """Make sure the chain and the jump for build users are in place; raises NetworkGuardError.

    Checked before every build with the network on (a few milliseconds): another
    process may have changed the firewall since. Workers of one console share one
    AWS endpoint, so they install the same rules."""
    if settings.BUILD_UID_COUNT <= 0 or not _is_root():
        raise NetworkGuardError(
            "the worker does not run as root, so builds share its user and the firewall cannot tell them apart"
        )
    with _lock:
        for version, tool in ((4, "iptables"), (6, "ip6tables")):
            if shutil.which(f"{tool}-restore") is None:
                raise NetworkGuardError(f"{tool} is not installed on this worker: apt-get install iptables")
            wanted = rules(version)
            if _installed_rules(tool) != _rule_lines(wanted):
                result = _run([f"{tool}-restore", "--noflush", "--wait"], stdin=wanted)
                if result.returncode != 0:
                    raise NetworkGuardError(f"{tool}-restore failed: {result.stderr.strip() or result.returncode}")
            for uid_range in _uid_ranges():
                jump = ["OUTPUT", "-m", "owner", "--uid-owner", uid_range, "-j", chain()]
                if _run([tool, "--wait", "-C", *jump]).returncode != 0:
                    result = _run([tool, "--wait", "-I", *jump])
                    if result.returncode != 0:
                        raise NetworkGuardError(f"{tool} could not add the jump: {result.stderr.strip()}")


def _rule_lines(restore_text: str) -> list[str]:
    return [_normalized(line) for line in restore_text.splitlines() if line.startswith("-A ")]


def _installed_rules(tool: str) -> list[str]:
    """The chain's rules as iptables prints them back, in our own spelling where they differ."""
    listed = _run([tool, "--wait", "-S", chain()])
    if listed.returncode != 0:
        return []
    return [_normalized(line) for line in listed.stdout.splitlines() if line.startswith("-A ")]


def _normalized(line: str) -> str:
    # iptables -S adds the implied match module, and spells single addresses with or without /32, /128.
    words = [word.removesuffix("/32").removesuffix("/128") for word in line.split()]
    return " ".join(words).replace(" -m tcp ", " ")


def _is_root() -> bool:
    return os.geteuid() == 0
