"""Custom domains and DNS: the records to create, and whether they are there.

Every name of a domain should lead to the console's address, HOSTING_DNS_TARGET: a
sub domain by a CNAME to it; an apex (which cannot hold a CNAME) by A/AAAA records to
the target's addresses, or an ALIAS/ANAME where the DNS host offers one. A check looks
each name up (the system resolver, through `resolve`, which tests replace) and calls a
name verified when every address it resolves to is one of the target's: an old record
left beside the new one would still send some visitors elsewhere.

Pages never look anything up: a worker does (apps.hosting.tasks.check_domain), and
keeps the target's addresses in the cache for the page's A records.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.hosting.domains import auto_sub_domains, check_pending_key, full_name
from apps.hosting.models import DomainAssociation, SubDomain

logger = logging.getLogger(__name__)

# One look-up may take this long; all of a domain's run at once, so a check takes about as long.
LOOKUP_TIMEOUT_SECONDS = 5.0
_LOOKUP_THREADS = 8
TARGET_ADDRESSES_KEY = "hosting:dns-target-addresses"
TARGET_ADDRESSES_SECONDS = 24 * 3600
# Verified domains are looked up again this often (a record removed later shows up).
RECHECK_AVAILABLE_AFTER = timedelta(days=1)


class LookupFailed(Exception):
    """The resolver did not answer (timeout, server failure): nothing is known either way."""


def resolve(name: str) -> frozenset[str]:
    """The addresses `name` resolves to; empty when it does not exist or has no address."""
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return frozenset()
        raise LookupFailed(error.strerror or str(error)) from None
    except UnicodeError:
        return frozenset()
    return frozenset(str(info[4][0]).split("%")[0] for info in infos)


def _lookup(name: str) -> frozenset[str]:
    return resolve(name)  # through the module's name, so a test's replacement is the one used


def lookup_all(names: list[str]) -> dict[str, frozenset[str] | LookupFailed]:
    """Every name looked up at once, none waited for longer than LOOKUP_TIMEOUT_SECONDS."""
    if not names:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(_LOOKUP_THREADS, len(names)), thread_name_prefix="dns")
    futures = {name: pool.submit(_lookup, name) for name in dict.fromkeys(names)}
    wait(futures.values(), timeout=LOOKUP_TIMEOUT_SECONDS)
    # A hung look-up is left to finish on its own: getaddrinfo cannot be interrupted.
    pool.shutdown(wait=False, cancel_futures=True)
    results: dict[str, frozenset[str] | LookupFailed] = {}
    for name, future in futures.items():
        if not future.done() or future.cancelled():
            results[name] = LookupFailed(f"no answer within {LOOKUP_TIMEOUT_SECONDS:g} s")
        elif isinstance(future.exception(), LookupFailed):
            results[name] = future.exception()  # type: ignore[assignment]
        elif future.exception() is not None:
            results[name] = LookupFailed(str(future.exception()))
        else:
            results[name] = future.result()
    return results


def dns_target() -> str:
    return str(settings.HOSTING_DNS_TARGET)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def target_addresses() -> list[str]:
    """The target's addresses as the last check found them (or the target itself, an IP)."""
    if _ip(dns_target()) is not None:
        return [dns_target()]
    return list(cache.get(TARGET_ADDRESSES_KEY) or [])


@dataclass(frozen=True)
class DnsRecord:
    """One record to create at the domain's DNS host."""

    name: str
    type: str  # CNAME, A, AAAA, ALIAS
    value: str
    prefix: str  # as Amplify's dnsRecord spells it: "www", "" for the apex, "*" for automatic ones


def _address_records(name: str, prefix: str, addresses: list[str]) -> list[DnsRecord]:
    return [DnsRecord(name, "AAAA" if ":" in a else "A", a, prefix) for a in sorted(addresses, key=lambda a: (":" in a, a))]


def records_for(name: str, prefix: str) -> list[DnsRecord]:
    """What makes `name` reach the console: a CNAME, or for an apex (prefix ""), which DNS
    does not let hold a CNAME, A/AAAA records (an ALIAS while the addresses are unknown)."""
    target = dns_target()
    if _ip(target) is not None:
        return _address_records(name, prefix, [target])
    if prefix:
        return [DnsRecord(name, "CNAME", target, prefix)]
    addresses = target_addresses()
    return _address_records(name, prefix, addresses) if addresses else [DnsRecord(name, "ALIAS", target, prefix)]


def dns_record_text(sub: SubDomain) -> str:
    """The sub domain's record in one line, as Amplify's `dnsRecord` gives it."""
    records = records_for(full_name(sub), sub.prefix)
    first = records[0]
    return f"{first.prefix} {first.type} {', '.join(r.value for r in records)}"


# --- The check ----------------------------------------------------------------------


def _problem(name: str, found: frozenset[str] | LookupFailed, target: frozenset[str]) -> tuple[str, str]:
    """(kind, message) for one name: kind "" when it leads to the console."""
    if isinstance(found, LookupFailed):
        return "unknown", f"{name}: the look-up failed ({found})."
    if not found:
        return "missing", f"{name} has no DNS record yet."
    if found <= target:
        return "", ""
    elsewhere = ", ".join(sorted(found - target))
    return "wrong", f"{name} points at {elsewhere}, which is not the console ({', '.join(sorted(target))})."


def check_domain(domain: DomainAssociation) -> DomainAssociation:
    """Look every name of the domain up; store each sub domain's `dns_verified` and the
    domain's status: AVAILABLE when all lead to the console, FAILED when one leads
    elsewhere, PENDING_VERIFICATION while records are missing or the resolver is silent."""
    target = dns_target()
    subs = list(domain.sub_domains.select_related("domain"))
    names = {sub.pk: full_name(sub) for sub in subs}
    auto_names = [name for name, _ in auto_sub_domains(domain)]
    targets = [] if _ip(target) is not None else [target]
    found = lookup_all(targets + list(names.values()) + auto_names)
    now = timezone.now()
    if _ip(target) is not None:
        target_set = frozenset({target})
    else:
        answer = found[target]
        if isinstance(answer, LookupFailed) or not answer:
            reason = f"Cannot find the console's own address {target}: check HOSTING_DNS_TARGET."
            _store(domain, {}, DomainAssociation.Status.PENDING_VERIFICATION, reason, now)
            return domain
        target_set = answer
        cache.set(TARGET_ADDRESSES_KEY, sorted(answer), TARGET_ADDRESSES_SECONDS)
    verified: dict[int, bool] = {}
    problems: dict[str, list[str]] = {"wrong": [], "missing": [], "unknown": []}
    for pk, name in names.items():
        kind, message = _problem(name, found[name], target_set)
        if kind != "unknown":  # a silent resolver leaves what the last answer said
            verified[pk] = kind == ""
        if kind:
            problems[kind].append(message)
    for name in auto_names:
        kind, message = _problem(name, found[name], target_set)
        if kind:
            problems[kind].append(message)
    if problems["wrong"]:
        status = DomainAssociation.Status.FAILED
    elif problems["missing"] or problems["unknown"]:
        status = DomainAssociation.Status.PENDING_VERIFICATION
    else:
        status = DomainAssociation.Status.AVAILABLE
    reason = " ".join(problems["wrong"] + problems["missing"] + problems["unknown"])
    _store(domain, verified, status, reason, now)
    return domain


def _store(domain: DomainAssociation, verified: dict[int, bool], status: str, reason: str, now: datetime) -> None:
    # Updates, not saves: an edit made while the look-ups ran keeps its own changes.
    for value in (True, False):
        pks = [pk for pk, ok in verified.items() if ok is value]
        if pks:
            SubDomain.objects.filter(domain=domain, pk__in=pks).update(dns_verified=value)
    DomainAssociation.objects.filter(pk=domain.pk).update(status=status, status_reason=reason, checked_at=now)
    domain.status, domain.status_reason = status, reason
    cache.delete(check_pending_key(domain.pk))


def check_domain_by_id(domain_id: int) -> str:
    """The task's work: a domain removed meanwhile is nothing to do."""
    domain = DomainAssociation.objects.select_related("app").filter(pk=domain_id).first()
    if domain is None:
        return "gone"
    return str(check_domain(domain).status)


def domains_due() -> QuerySet[DomainAssociation]:
    """Domains to look up again: those not yet verified, and verified ones once a day."""
    stale = timezone.now() - RECHECK_AVAILABLE_AFTER
    return DomainAssociation.objects.filter(
        ~Q(status=DomainAssociation.Status.AVAILABLE) | Q(checked_at__isnull=True) | Q(checked_at__lt=stale)
    )
