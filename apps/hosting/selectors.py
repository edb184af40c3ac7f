"""Hosting's reads, for other apps and for its own views (the public surface)."""

from __future__ import annotations

from apps.hosting.custom_headers import HeaderRule as HeaderRule
from apps.hosting.custom_headers import HeadersInvalid as HeadersInvalid
from apps.hosting.custom_headers import headers_for as headers_for
from apps.hosting.custom_headers import monorepo_app_root as monorepo_app_root
from apps.hosting.custom_headers import parse_custom_headers as parse_custom_headers
from apps.hosting.custom_headers import read_custom_http as read_custom_http
from apps.hosting.delivery import Answer as Answer
from apps.hosting.delivery import Entry as Entry
from apps.hosting.delivery import deployed_bytes as deployed_bytes
from apps.hosting.delivery import file_response as file_response
from apps.hosting.delivery import manifest as manifest
from apps.hosting.delivery import resolve as resolve
from apps.hosting.domain_dns import dns_record_text as dns_record_text
from apps.hosting.domains import branch_for_custom_host as branch_for_custom_host
from apps.hosting.protection import challenge as challenge
from apps.hosting.protection import check_authorization as check_authorization
from apps.hosting.protection import effective_basic_auth as effective_basic_auth
from apps.hosting.protection import parse_basic_auth_credentials as parse_basic_auth_credentials
from apps.hosting.publishing import deployment_of_job as deployment_of_job
from apps.hosting.rules import Rule as Rule
from apps.hosting.rules import RulesInvalid as RulesInvalid
from apps.hosting.rules import evaluate as evaluate
from apps.hosting.rules import parse_rules as parse_rules
from apps.hosting.rules import rules_json as rules_json
from apps.hosting.serving import header_rules_of as header_rules_of
from apps.hosting.serving import rules_of as rules_of
from apps.hosting.serving import site_for_host as site_for_host
from apps.hosting.serving import site_settings_of as site_settings_of
from apps.hosting.site_rules import stored_rules as stored_rules
