"""Checking AWS Signature Version 4 on requests to the Amplify-compatible API.

The expected signature is computed with botocore's own signer (the same code that
signed the request in boto3 and the AWS CLI) over the request as received: its method,
path, query string, the headers it says it signed, and its body. The two signatures are
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.http import HttpRequest
from django.utils import timezone

from apps.amplify_api.keys import secret_of
from apps.amplify_api.models import AccessKey

SERVICE = "amplify"
ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses a request whose date is more than 5 minutes from its clock; so do we.
MAX_SKEW = timedelta(minutes=5)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_SCOPE = re.compile(
    r"^(?P<key>[A-Z0-9]{16,128})/(?P<date>\d{8})/(?P<region>[a-z0-9-]{1,40})/(?P<service>[a-z0-9-]+)/aws4_request$"
)
# What stands in for a secret when the key id is unknown or revoked, so those
# requests cost as much as a wrong signature and tell no timing apart.
_NO_SECRET = "x" * 40


class SignatureInvalid(Exception):
    """Why a request is refused; the message is safe to return to the caller."""


@dataclass(frozen=True)
class SignedRequest:
    """What the caller signed: the request line and the parts botocore's signer reads."""

    method: str
    host_url: str  # scheme://host[:port]
    path: str  # as sent: labels percent-encoded once
    query: str  # raw, as sent
    headers: dict[str, str]  # every header, names lower-case
    body: bytes


def from_django(request: HttpRequest, path: str) -> SignedRequest:
    headers = {name.lower(): value for name, value in request.headers.items()}
    scheme = "https" if request.is_secure() else "http"
    return SignedRequest(
        method=request.method or "GET",
        host_url=f"{scheme}://{headers.get('host', '')}",
        path=path,
        query=request.META.get("QUERY_STRING", ""),
        headers=headers,
        body=request.body,
    )


def verify(signed: SignedRequest, *, now: datetime | None = None) -> AccessKey:
    """The active access key that signed the request; SignatureInvalid otherwise."""
    match = _AUTHORIZATION.match(signed.headers.get("authorization", "").strip())
    if match is None:
        raise SignatureInvalid(
            "The request is not signed with AWS Signature Version 4 (an Authorization header "
            "'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...')."
        )
    scope = _SCOPE.match(match["credential"])
    if scope is None:
        raise SignatureInvalid("The Authorization header's Credential is not KEYID/DATE/REGION/SERVICE/aws4_request.")
    if scope["service"] != SERVICE:
        raise SignatureInvalid(f"Credential should be scoped to the service {SERVICE!r}, not {scope['service']!r}.")
    amz_date = signed.headers.get("x-amz-date", "")
    moment = _parse_date(amz_date)
    if amz_date[:8] != scope["date"]:
        raise SignatureInvalid("The Credential's date does not match the X-Amz-Date header.")
    now = now or timezone.now()
    if abs(now - moment) > MAX_SKEW:
        raise SignatureInvalid(
            f"Signature expired: the request's date {amz_date} is more than {MAX_SKEW.seconds // 60} minutes "
            f"from the console's clock ({now.astimezone(UTC).strftime(SIGV4_TIMESTAMP)}). Check the client's clock."
        )
    signed_names = match["signed"].split(";")
    if "host" not in signed_names:
        raise SignatureInvalid("The signature must cover the Host header.")
    missing = [name for name in signed_names if name not in signed.headers]
    if missing:
        raise SignatureInvalid(f"Signed headers missing from the request: {', '.join(missing)}.")
    _check_payload_hash(signed)

    key = AccessKey.objects.select_related("user").filter(access_key_id=scope["key"]).first()
    secret = secret_of(key) if key is not None and key.is_active else None
    expected = _signature(signed, signed_names, scope["key"], secret or _NO_SECRET, scope["region"], amz_date)
    matches = hmac.compare_digest(expected, match["signature"])
    if key is None or secret is None:
        raise SignatureInvalid(
            "The security token included in the request is invalid: the access key is unknown or has been revoked."
        )
    if not matches:
        raise SignatureInvalid(
            "The request signature we calculated does not match the signature you provided. "
            "Check your secret access key and signing method."
        )
    if not key.user.is_active:
        raise SignatureInvalid("The access key's console user is inactive.")
    return key


def _parse_date(amz_date: str) -> datetime:
    try:
        return datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureInvalid("The request has no valid X-Amz-Date header (like 20261126T120000Z).") from None


def _check_payload_hash(signed: SignedRequest) -> None:
    """A declared body hash is what the signature covers, so it must be the body's."""
    declared = signed.headers.get("x-amz-content-sha256")
    if declared is None:
        return
    if declared == UNSIGNED_PAYLOAD:
        raise SignatureInvalid("Unsigned payloads are not accepted: sign the request body.")
    if not hmac.compare_digest(declared.lower(), hashlib.sha256(signed.body).hexdigest()):
        raise SignatureInvalid("The X-Amz-Content-SHA256 header does not match the request body.")


def _signature(signed: SignedRequest, names: list[str], key_id: str, secret: str, region: str, amz_date: str) -> str:
    url = f"{signed.host_url}{signed.path}" + (f"?{signed.query}" if signed.query else "")
    request = AWSRequest(method=signed.method, url=url, data=signed.body, headers={n: signed.headers[n] for n in names})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(key_id, secret), SERVICE, region)
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))
