"""The Amplify API's domain association operations, through hosting's services (audited
and validated as on the Custom domains page).

`certificateSettings` and `autoSubDomainIAMRole` are accepted and ignored: certificates
come from the proxy in front of the console (README, "Custom domains and TLS"), and no
IAM role is needed to create sub domains here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from apps.amplify_api.paging import page_of
from apps.amplify_api.protocol import bad_request, not_found
from apps.amplify_api.render import app_arn
from apps.branches.models import App, Branch
from apps.hosting import selectors as hosting_selectors
from apps.hosting import services as hosting_services
from apps.hosting.models import DomainAssociation
from console.roles import Role

if TYPE_CHECKING:
    from apps.amplify_api.operations import Call, Operation

STATUS_REASON_MAX = 1000  # the model's StatusReason


def _app(app_id: str) -> App:
    app = App.objects.filter(app_id=app_id).first()
    if app is None:
        raise not_found(f"App {app_id} not found.")
    return app


def _domain(app: App, domain_name: str) -> DomainAssociation:
    name = domain_name.strip().lower().rstrip(".")
    domain = app.domains.select_related("app").filter(domain_name=name).first()
    if domain is None:
        raise not_found(f"Domain association {domain_name} not found in app {app.app_id}.")
    return domain


def _sub_domains(app: App, settings_list: list[dict[str, Any]]) -> list[tuple[str, Branch]]:
    """subDomainSettings to (prefix, branch); a branch the app lacks is the caller's mistake."""
    branches = {branch.name: branch for branch in app.branches.all()}
    mapping = []
    for setting in settings_list:
        branch = branches.get(setting["branchName"])
        if branch is None:
            raise bad_request(f"subDomainSettings: branch {setting['branchName']!r} is not a branch of app {app.app_id}.")
        mapping.append((setting["prefix"], branch))
    return mapping


def domain_shape(domain: DomainAssociation) -> dict[str, Any]:
    subs = domain.sub_domains.select_related("branch", "domain").order_by("prefix")
    return {
        "domainAssociationArn": f"{app_arn(domain.app)}/domains/{domain.domain_name}",
        "domainName": domain.domain_name,
        "enableAutoSubDomain": domain.enable_auto_sub_domain,
        "autoSubDomainCreationPatterns": list(domain.auto_sub_domain_patterns),
        "domainStatus": domain.status,
        "statusReason": domain.status_reason[:STATUS_REASON_MAX],
        "subDomains": [
            {
                "subDomainSetting": {"prefix": sub.prefix, "branchName": sub.branch.name},
                "verified": sub.dns_verified,
                "dnsRecord": hosting_selectors.dns_record_text(sub),
            }
            for sub in subs
        ],
        # Certificates are the proxy's (Caddy's on-demand TLS), never an ACM one of yours.
        "certificate": {"type": "AMPLIFY_MANAGED"} if settings.HOSTING_SCHEME == "https" else None,
    }


def create_domain_association(call: Call) -> dict[str, Any]:
    params = call.params
    app = _app(params["appId"])
    with transaction.atomic():
        domain = hosting_services.domain_create(
            actor=call.user,
            app=app,
            domain_name=params["domainName"],
            sub_domains=_sub_domains(app, params["subDomainSettings"]),
            enable_auto_sub_domain=params.get("enableAutoSubDomain", False),
            auto_sub_domain_patterns=params.get("autoSubDomainCreationPatterns", []),
        )
    return {"domainAssociation": domain_shape(domain)}


def get_domain_association(call: Call) -> dict[str, Any]:
    domain = _domain(_app(call.params["appId"]), call.params["domainName"])
    return {"domainAssociation": domain_shape(domain)}


def list_domain_associations(call: Call) -> dict[str, Any]:
    app = _app(call.params["appId"])
    rows = app.domains.select_related("app")
    page = page_of(rows, call.params, order="pk", operation="ListDomainAssociations", default_size=50)
    return {"domainAssociations": [domain_shape(d) for d in page.items], "nextToken": page.next_token}


def update_domain_association(call: Call) -> dict[str, Any]:
    params = call.params
    app = _app(params["appId"])
    domain = _domain(app, params["domainName"])
    sub_domains = _sub_domains(app, params["subDomainSettings"]) if "subDomainSettings" in params else None
    with transaction.atomic():
        hosting_services.domain_update(
            actor=call.user,
            domain=domain,
            sub_domains=sub_domains,
            enable_auto_sub_domain=params.get("enableAutoSubDomain"),
            auto_sub_domain_patterns=params.get("autoSubDomainCreationPatterns"),
        )
    domain.refresh_from_db()
    return {"domainAssociation": domain_shape(domain)}


def delete_domain_association(call: Call) -> dict[str, Any]:
    domain = _domain(_app(call.params["appId"]), call.params["domainName"])
    shape = domain_shape(domain)
    hosting_services.domain_delete(actor=call.user, domain=domain, confirm_name=domain.domain_name)
    return {"domainAssociation": shape}


DOMAIN_OPERATIONS: dict[str, tuple[Role, Operation]] = {
    "CreateDomainAssociation": (Role.ADMIN, create_domain_association),
    "GetDomainAssociation": (Role.VIEWER, get_domain_association),
    "ListDomainAssociations": (Role.VIEWER, list_domain_associations),
    "UpdateDomainAssociation": (Role.ADMIN, update_domain_association),
    "DeleteDomainAssociation": (Role.ADMIN, delete_domain_association),
}
