"""Custom domains: which branch a Host header that is not a branch URL names, what a
domain may be called, and the services that add, change and remove them.

A domain maps prefixes to branches (`www` -> main serves `www.example.com`, prefix ""
the apex). With automatic sub domains on, every branch whose name matches the domain's
patterns is also served at `<branch.hostname_label>.<domain>`; an explicit prefix wins
over an automatic one. The DNS side (what to point where, whether it does) is in
domain_dns.py."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from apps.branches.models import App, Branch
from apps.branches.selectors import PatternError, parse_patterns
from apps.hosting.lookup import SERVED_WITH, hosting_host
from apps.hosting.models import DomainAssociation, SubDomain
from console.audit import audit_record
from console.queue import send_on_commit

# A DNS label as hosts use it (RFC 1123), after IDNA encoding.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_NAME_LENGTH = 253
MAX_SUB_DOMAINS = 50
MAX_PATTERNS = 20
# While a check is queued the page polls; a worker that never takes it stops the polling after this.
CHECK_PENDING_SECONDS = 60
CHECK_TASK = "apps.hosting.tasks.check_domain"


# --- Serving ------------------------------------------------------------------------


def branch_for_custom_host(hostname: str) -> Branch | None:
    """The branch `hostname` (lower case, no port, no trailing dot) serves, if a domain maps it.

    Runs on every hosted request whose Host is not a branch URL: one indexed query for an
    explicit mapping (the apex or `prefix.domain`), one more for an automatic sub domain."""
    if not hostname or len(hostname) > MAX_NAME_LENGTH:
        return None
    label, _, parent = hostname.partition(".")
    named = Q(domain__domain_name=hostname, prefix="")
    if parent:
        named |= Q(domain__domain_name=parent, prefix=label)
    # Overlaps are refused when domains are saved; "" first keeps the choice stable anyway.
    # What serving needs next comes along: the deployment, the app's rules and headers, a branch password.
    explicit = SubDomain.objects.filter(named).select_related(*(f"branch__{r}" for r in SERVED_WITH)).order_by("prefix")
    found = explicit.first()
    if found is not None:
        return found.branch
    if not parent:
        return None
    candidates = (
        Branch.objects.filter(app__domains__domain_name=parent, app__domains__enable_auto_sub_domain=True)
        .annotate(auto_patterns=F("app__domains__auto_sub_domain_patterns"))
        .select_related(*SERVED_WITH)
        .defer("backend_outputs", "backend_outputs_unowned")  # every branch of the app is read: keep rows small
    )
    # hostname_label is derived from the display name in Python; an app has at most 50 branches.
    return next(
        (b for b in candidates if b.hostname_label == label and auto_matches(getattr(b, "auto_patterns", None), b.name)),
        None,
    )


def auto_matches(patterns: Any, branch_name: str) -> bool:
    """Whether a domain with these automatic sub domain patterns serves the branch."""
    if not isinstance(patterns, list) or not patterns:
        return False
    try:
        return parse_patterns(",".join(str(p) for p in patterns)).matches(branch_name)
    except PatternError:
        return False  # saved patterns are checked; one that no longer parses serves nothing


def auto_sub_domains(domain: DomainAssociation) -> list[tuple[str, Branch]]:
    """(name, branch) of the automatic sub domains the domain serves now: matching
    branches whose label no explicit prefix takes."""
    if not domain.enable_auto_sub_domain:
        return []
    taken = {sub.prefix for sub in domain.sub_domains.all()}
    found = []
    for branch in domain.app.branches.all():
        if branch.hostname_label not in taken and auto_matches(domain.auto_sub_domain_patterns, branch.name):
            found.append((f"{branch.hostname_label}.{domain.domain_name}", branch))
            taken.add(branch.hostname_label)
    return found


def full_name(sub: SubDomain) -> str:
    return f"{sub.prefix}.{sub.domain.domain_name}" if sub.prefix else sub.domain.domain_name


# --- Names --------------------------------------------------------------------------


def console_host_names() -> set[str]:
    """Names that reach the console itself: a custom domain there would hide the console."""
    names = {hosting_host(), str(settings.HOSTING_DNS_TARGET).lower()}
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*" and not host.startswith("."):
            names.add(host.split(":")[0].lower())
    return names


def _ascii_label(label: str, whole: str) -> str:
    if not label:
        raise ValidationError(f"{whole!r} has an empty part: two dots in a row, or a dot at the start.")
    try:
        # Only non-ASCII labels need IDNA (punycode); the codec's own refusals explain less.
        encoded = label.lower() if label.isascii() else label.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationError(f"{label!r} cannot be written as an internationalized domain name label.") from None
    if not _LABEL.fullmatch(encoded):
        raise ValidationError(
            f"{label!r} is not a valid part of a domain name: each part between dots has 1 to 63 letters, "
            "digits or hyphens, and does not start or end with a hyphen."
        )
    return encoded


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def normalize_domain_name(raw: str) -> str:
    """The domain name as stored and matched: IDNA-encoded, lower case, no trailing dot."""
    name = raw.strip()
    if name.endswith(".") and not name.endswith(".."):
        name = name[:-1]  # the root: `example.com.` is `example.com`
    if not name:
        raise ValidationError("Enter a domain name, such as example.com.")
    if "*" in name:
        raise ValidationError(
            "Wildcards are not domain names: add example.com and map prefixes to branches, or turn on automatic sub domains."
        )
    if any(char in name for char in "/:@ ") and not is_ip_address(name):
        raise ValidationError(f"Enter the name only, without scheme, port or path: example.com, not {name!r}.")
    if is_ip_address(name):
        raise ValidationError(f"{name} is an IP address: custom domains are names, such as example.com.")
    labels = [_ascii_label(label, name) for label in name.split(".")]
    if len(labels) < 2:
        raise ValidationError(f"{name!r} is a single label: enter a full domain name, such as example.com.")
    if labels[-1].isdigit():
        raise ValidationError(f"{name!r} ends in a number: that is not a top-level domain.")
    ascii_name = ".".join(labels)
    if len(ascii_name) > MAX_NAME_LENGTH:
        raise ValidationError(f"A domain name has at most {MAX_NAME_LENGTH} characters; this one has {len(ascii_name)}.")
    hosting = hosting_host()
    if ascii_name == hosting or ascii_name.endswith("." + hosting):
        raise ValidationError(
            f"{ascii_name} is under the console's own hosting domain {hosting}, where branches are served already."
        )
    if ascii_name in console_host_names():
        raise ValidationError(f"{ascii_name} is the console's own address: it cannot serve a branch too.")
    return ascii_name


def normalize_prefix(raw: str) -> str:
    """A sub domain prefix: "" (the apex) or one DNS label, IDNA-encoded and lower case."""
    prefix = raw.strip()
    if not prefix:
        return ""
    if "*" in prefix:
        raise ValidationError(f"{prefix!r}: wildcards are not prefixes; turn on automatic sub domains instead.")
    if "." in prefix:
        raise ValidationError(f"{prefix!r}: a prefix is one label, such as www or shop, without dots.")
    return _ascii_label(prefix, prefix)


def normalize_patterns(patterns: Iterable[str]) -> list[str]:
    """Branch patterns for automatic sub domains (the syntax of branch auto-detection)."""
    cleaned = list(dict.fromkeys(p.strip() for p in patterns if p.strip()))
    if len(cleaned) > MAX_PATTERNS:
        raise ValidationError(f"At most {MAX_PATTERNS} patterns; there are {len(cleaned)}.")
    for pattern in cleaned:
        if "," in pattern:
            raise ValidationError(f"{pattern!r}: give each pattern on its own, without commas.")
    try:
        parse_patterns(",".join(cleaned))
    except PatternError as error:
        raise ValidationError(str(error)) from None
    return cleaned


def _field(field: str, error: ValidationError) -> ValidationError:
    return ValidationError({field: error.messages})


def _clean_sub_domains(app: App, domain_name: str, sub_domains: Sequence[tuple[str, Branch]]) -> dict[str, Branch]:
    if len(sub_domains) > MAX_SUB_DOMAINS:
        raise ValidationError({"sub_domains": f"At most {MAX_SUB_DOMAINS} sub domains per domain."})
    cleaned: dict[str, Branch] = {}
    for raw, branch in sub_domains:
        try:
            prefix = normalize_prefix(raw)
        except ValidationError as error:
            raise _field("sub_domains", error) from None
        name = f"{prefix}.{domain_name}" if prefix else domain_name
        if branch.app_id != app.pk:
            raise ValidationError({"sub_domains": f"{name}: branch {branch.name!r} is not a branch of {app.name}."})
        if prefix in cleaned:
            raise ValidationError({"sub_domains": f"{name} is listed twice: give each prefix one branch."})
        if len(name) > MAX_NAME_LENGTH:
            raise ValidationError({"sub_domains": f"{name} is longer than {MAX_NAME_LENGTH} characters."})
        cleaned[prefix] = branch
    return cleaned


def _clean_auto(enabled: bool, patterns: Sequence[str]) -> list[str]:
    try:
        cleaned = normalize_patterns(patterns)
    except ValidationError as error:
        raise _field("auto_sub_domain_patterns", error) from None
    if enabled and not cleaned:
        message = "Give at least one branch pattern (** for every branch), or turn automatic sub domains off."
        raise ValidationError({"auto_sub_domain_patterns": message})
    return cleaned


def _refuse_overlaps(domain_name: str, prefixes: Iterable[str], exclude: int | None = None) -> None:
    """Two domains must not both name one host: `shop.example.com` added as a domain while
    `example.com` maps prefix `shop` (or the other way round)."""
    label, _, parent = domain_name.partition(".")
    subs, domains = SubDomain.objects.all(), DomainAssociation.objects.all()
    if exclude is not None:
        subs, domains = subs.exclude(domain_id=exclude), domains.exclude(pk=exclude)
    if subs.filter(domain__domain_name=parent, prefix=label).exists():
        raise ValidationError({"domain_name": f"{domain_name} is already served as a sub domain of {parent}."})
    names = [f"{prefix}.{domain_name}" for prefix in prefixes if prefix]
    clash = domains.filter(domain_name__in=names).values_list("domain_name", flat=True)
    if clash:
        raise ValidationError({"sub_domains": f"{', '.join(sorted(clash))} is already added as a domain of its own."})


# --- Services -----------------------------------------------------------------------


def _target(domain: DomainAssociation) -> str:
    return f"{domain.app.app_id}/{domain.domain_name}"


def check_pending_key(domain_id: int) -> str:
    return f"hosting:domain-check-pending:{domain_id}"


def _queue_check(domain: DomainAssociation) -> None:
    cache.set(check_pending_key(domain.pk), True, CHECK_PENDING_SECONDS)
    send_on_commit(CHECK_TASK, domain.pk)


def domain_create(
    *,
    actor: Any,
    app: App,
    domain_name: str,
    sub_domains: Sequence[tuple[str, Branch]],
    enable_auto_sub_domain: bool = False,
    auto_sub_domain_patterns: Sequence[str] = (),
) -> DomainAssociation:
    """Add a domain with its prefix -> branch mapping; its DNS is checked once committed."""
    try:
        name = normalize_domain_name(domain_name)
    except ValidationError as error:
        raise _field("domain_name", error) from None
    mapping = _clean_sub_domains(app, name, sub_domains)
    patterns = _clean_auto(enable_auto_sub_domain, auto_sub_domain_patterns)
    if not mapping and not enable_auto_sub_domain:
        raise ValidationError(
            {"sub_domains": "Map at least one name to a branch (www -> main), or turn on automatic sub domains."}
        )
    try:
        with transaction.atomic():
            if DomainAssociation.objects.filter(domain_name=name).exists():
                raise ValidationError({"domain_name": f"{name} is already added (each domain belongs to one app)."})
            _refuse_overlaps(name, mapping)
            domain = DomainAssociation.objects.create(
                app=app, domain_name=name, enable_auto_sub_domain=enable_auto_sub_domain, auto_sub_domain_patterns=patterns
            )
            SubDomain.objects.bulk_create(SubDomain(domain=domain, prefix=p, branch=b) for p, b in mapping.items())
            audit_record(
                actor=actor,
                action="domain.create",
                target_type="domain",
                target=_target(domain),
                message=f"added {name}",
                detail={"sub_domains": {p: b.name for p, b in mapping.items()}, "auto_sub_domain_patterns": patterns},
            )
            _queue_check(domain)
    except IntegrityError:
        # Another request added the same name between our check and our insert.
        raise ValidationError({"domain_name": f"{name} is already added (each domain belongs to one app)."}) from None
    return domain


def domain_update(
    *,
    actor: Any,
    domain: DomainAssociation,
    sub_domains: Sequence[tuple[str, Branch]] | None = None,
    enable_auto_sub_domain: bool | None = None,
    auto_sub_domain_patterns: Sequence[str] | None = None,
) -> DomainAssociation:
    """Change what the domain serves; None leaves that part as it is. A prefix kept keeps
    its DNS verification (the name did not change, only the branch it serves)."""
    app = domain.app
    enabled = domain.enable_auto_sub_domain if enable_auto_sub_domain is None else enable_auto_sub_domain
    patterns = _clean_auto(
        enabled, domain.auto_sub_domain_patterns if auto_sub_domain_patterns is None else auto_sub_domain_patterns
    )
    current = {sub.prefix: sub for sub in domain.sub_domains.select_related("branch")}
    mapping = (
        _clean_sub_domains(app, domain.domain_name, sub_domains)
        if sub_domains is not None
        else {p: s.branch for p, s in current.items()}
    )
    if not mapping and not enabled:
        raise ValidationError({"sub_domains": "Map at least one name to a branch, or turn on automatic sub domains."})
    with transaction.atomic():
        DomainAssociation.objects.select_for_update().filter(pk=domain.pk).first()
        _refuse_overlaps(domain.domain_name, mapping, exclude=domain.pk)
        removed = sorted(set(current) - set(mapping))
        added = sorted(set(mapping) - set(current))
        moved = sorted(p for p in set(current) & set(mapping) if current[p].branch_id != mapping[p].pk)
        SubDomain.objects.filter(domain=domain, prefix__in=removed).delete()
        SubDomain.objects.bulk_create(SubDomain(domain=domain, prefix=p, branch=mapping[p]) for p in added)
        for prefix in moved:
            SubDomain.objects.filter(domain=domain, prefix=prefix).update(branch=mapping[prefix])
        domain.enable_auto_sub_domain, domain.auto_sub_domain_patterns = enabled, patterns
        if added:  # until the check queued below has looked the new names up
            domain.status = DomainAssociation.Status.PENDING_VERIFICATION
        domain.save(update_fields=["enable_auto_sub_domain", "auto_sub_domain_patterns", "status", "updated_at"])
        audit_record(
            actor=actor,
            action="domain.update",
            target_type="domain",
            target=_target(domain),
            message=f"changed {domain.domain_name}",
            detail={
                "added": {p: mapping[p].name for p in added},
                "removed": removed,
                "moved": {p: mapping[p].name for p in moved},
                "enable_auto_sub_domain": enabled,
                "auto_sub_domain_patterns": patterns,
            },
        )
        _queue_check(domain)
    return domain


def domain_delete(*, actor: Any, domain: DomainAssociation, confirm_name: str) -> None:
    if confirm_name.strip().lower().rstrip(".") != domain.domain_name:
        raise ValidationError({"confirm_name": f"Type the domain name {domain.domain_name} exactly to remove it."})
    target, name = _target(domain), domain.domain_name
    with transaction.atomic():
        domain.delete()
        audit_record(actor=actor, action="domain.delete", target_type="domain", target=target, message=f"removed {name}")


def domain_check_request(*, actor: Any, domain: DomainAssociation) -> None:
    """Look the domain's names up again (a worker does it; the page polls meanwhile)."""
    with transaction.atomic():
        audit_record(actor=actor, action="domain.check", target_type="domain", target=_target(domain))
        _queue_check(domain)


def check_pending(domain: DomainAssociation) -> bool:
    return bool(cache.get(check_pending_key(domain.pk)))
