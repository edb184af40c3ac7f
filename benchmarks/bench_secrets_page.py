"""The secrets page of an app with 500 secrets over 20 branches.

Work: GET of the app's secrets page (`apps.secrets.views.secrets_page`) through
Django's test Client as a signed-in admin: middleware, session, the app, its
branches, `secret_matrix(app)` (one DescribeParameters walk, OneLevel Path filter,
per prefix: the shared one and each branch's) and the template with one cell per
name and scope. Baseline in the same run, interleaved with the renders: a raw
boto3 `get_parameters_by_path` walk (paginated, `WithDecryption=False`) of the
same 21 prefixes against the same moto server.
Also timed, for the breakdown: `secret_matrix(app)` alone (the page's AWS part),
the page with `secret_matrix` answering from memory (Django and the template only)
and a raw boto3 DescribeParameters walk of the same prefixes (the API the page
uses), with the default page size and with `MaxResults=50` (moto 5.2 pages
DescribeParameters by 10 whatever MaxResults says; real SSM allows 50).

Setup, in a temporary directory removed at the end: a local bare git repository
with `main`, a fresh SQLite database, a moto server (console.emulator), one app
(`app_create`) whose 19 other branches are Branch rows made directly (no git), and
500 SecureStrings written with `apps.secrets.ssm.put_value`: 100 shared and 20 per
branch (10 overriding a shared name, 10 from a pool of 40 branch-only names).
Prints medians, the ratio, the goal check (under 1.3), the AWS calls per render
and per baseline walk (botocore `before-call` hooks) and the peak Python memory
(tracemalloc) of one render.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from emulator_support import CallCounter, calls_text, django_on_emulator, make_repository, ms, timed

ROUNDS = 15
GOAL_RATIO = 1.3
BRANCHES = 20  # main and 19 more
SHARED_SECRETS = 100
OVERRIDES_PER_BRANCH = 10  # shared names a branch has its own value for
ONLY_PER_BRANCH = 10  # names only some branches have
ONLY_POOL = 40
TOTAL = SHARED_SECRETS + BRANCHES * (OVERRIDES_PER_BRANCH + ONLY_PER_BRANCH)


def branch_names() -> list[str]:
    return ["main"] + [f"feature/b{index:02d}" for index in range(1, BRANCHES)]


def seed(app: Any) -> None:
    """19 more branches (rows only) and TOTAL secrets on the emulator."""
    from apps.branches.models import Branch
    from apps.secrets.scopes import Scope
    from apps.secrets.ssm import put_value

    for name in branch_names()[1:]:
        Branch.objects.create(app=app, name=name, display_name=name.replace("/", "-"))
    for index in range(SHARED_SECRETS):
        put_value(Scope.shared(app.app_id).path(f"SHARED_{index:03d}"), f"shared-value-{index}")
    for number, branch in enumerate(branch_names()):
        scope = Scope.branch(app.app_id, branch)
        for k in range(OVERRIDES_PER_BRANCH):
            put_value(scope.path(f"SHARED_{(number * 5 + k) % SHARED_SECRETS:03d}"), f"{branch}-override-{k}")
        for k in range(ONLY_PER_BRANCH):
            put_value(scope.path(f"ONLY_{(number * 2 + k) % ONLY_POOL:02d}"), f"{branch}-only-{k}")


def run(tmp: Path, endpoint_url: str) -> None:
    import boto3
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from apps.branches.services import app_create
    from apps.secrets import views
    from apps.secrets.scopes import Scope
    from apps.secrets.selectors import secret_matrix
    from console.aws import aws_client
    from console.roles import Role, set_role

    call_command("migrate", verbosity=0)
    setup_start = time.perf_counter()
    app = app_create(actor=None, name="bench", repository=str(make_repository(tmp)), production_branch="main")
    seed(app)
    setup_seconds = time.perf_counter() - setup_start
    admin = get_user_model().objects.create_user(username="bench-admin", password="unused-bench-password")  # noqa: S106
    set_role(admin, Role.ADMIN)

    # The test settings' ALLOWED_HOSTS has no "testserver" (only setup_test_environment adds it).
    host = "testserver" if "testserver" in settings.ALLOWED_HOSTS else "localhost"
    client = Client(HTTP_HOST=host)
    client.force_login(admin)
    url = reverse("secrets", kwargs={"app_id": app.app_id})
    prefixes = [Scope.shared(app.app_id).prefix] + [Scope.branch(app.app_id, b).prefix for b in branch_names()]
    assert len(set(prefixes)) == BRANCHES + 1

    console_calls = CallCounter(aws_client("ssm"))  # the client the page uses (cached per thread)
    raw = boto3.client(
        "ssm",
        region_name=settings.AWS_REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    )
    raw_calls = CallCounter(raw)

    def render() -> bytes:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return bytes(response.content)

    def baseline() -> int:
        found = 0
        for prefix in prefixes:
            pages = raw.get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=False, WithDecryption=False)
            found += sum(len(page["Parameters"]) for page in pages)
        return found

    def describe_walk(**paging: Any) -> int:
        found = 0
        for prefix in prefixes:
            filters = [{"Key": "Path", "Option": "OneLevel", "Values": [prefix.rstrip("/")]}]
            pages = raw.get_paginator("describe_parameters").paginate(ParameterFilters=filters, **paging)
            found += sum(len(page["Parameters"]) for page in pages)
        return found

    def render_without_aws() -> bytes:
        """The page with `secret_matrix` answering from memory: Django and the template only."""
        with mock.patch.object(views, "secret_matrix", return_value=stub):
            return render()

    def matrix_only() -> int:
        matrix = secret_matrix(app)
        return sum(bool(row.shared) + len(row.branches) for row in matrix.rows)

    # Warm-up (imports, template loading, connections), and checks that all see every secret.
    html = render()
    assert html.count(b'title="/amplify/') == TOTAL, html.count(b'title="/amplify/')
    assert b"shared-value-" not in html, "the page shows a shared value"
    assert b"-override-" not in html, "the page shows a branch value"
    assert baseline() == TOTAL
    assert describe_walk() == TOTAL
    assert describe_walk(PaginationConfig={"PageSize": 50}) == TOTAL
    assert matrix_only() == TOTAL
    stub = secret_matrix(app)
    assert render_without_aws().count(b'title="/amplify/') == TOTAL
    console_calls.take()
    raw_calls.take()

    work: dict[str, tuple[Callable[[], Any], CallCounter]] = {
        "baseline": (baseline, raw_calls),
        "page": (render, console_calls),
        "matrix": (matrix_only, console_calls),
        "template": (render_without_aws, console_calls),
        "describe": (describe_walk, raw_calls),
        "describe50": (lambda: describe_walk(PaginationConfig={"PageSize": 50}), raw_calls),
    }
    samples: dict[str, list[float]] = {label: [] for label in work}
    counted: dict[str, dict[str, int]] = {}
    for _ in range(ROUNDS):  # interleaved, so all see the same machine
        for label, (fn, counter) in work.items():
            samples[label].append(timed(fn)[0])
            counted.setdefault(label, counter.take())  # the calls of the first round
            counter.take()

    tracemalloc.start()
    render()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    medians = {label: statistics.median(values) for label, values in samples.items()}
    page, base, matrix, template = medians["page"], medians["baseline"], medians["matrix"], medians["template"]
    describe, describe50 = medians["describe"], medians["describe50"]
    ratio = page / base

    cells = len(stub.rows) * (BRANCHES + 1)
    print(
        f"secrets: {TOTAL} over the shared scope ({SHARED_SECRETS}) and {BRANCHES} branches "
        f"({OVERRIDES_PER_BRANCH + ONLY_PER_BRANCH} each): {len(stub.rows)} names x {BRANCHES + 1} scopes = {cells} cells; "
        f"{ROUNDS} rounds, interleaved"
    )
    print(f"setup (app, {BRANCHES - 1} branch rows, {TOTAL} put_value on the emulator): {setup_seconds:.1f} s")
    print(f"baseline: raw get_parameters_by_path walk of the {len(prefixes)} prefixes: median {ms(base)}")
    print(f"work: secrets page GET (test Client, admin; {len(html) // 1024} KiB of HTML):    median {ms(page)}")
    print(f"ratio page / baseline: {ratio:.2f}x (medians)")
    print(f"goal check: ratio under {GOAL_RATIO}: {'yes' if ratio < GOAL_RATIO else 'no'}")
    # The page needs LastModifiedUser, which only DescribeParameters returns; on moto that
    # API is slower per call than GetParametersByPath (it rescans every parameter per page).
    print(f"ratio page / raw describe_parameters walk of the same prefixes (the API the page uses): {page / describe:.2f}x")
    print(f"AWS calls per render: {calls_text(counted['page'])}")
    print(f"AWS calls per baseline walk: {calls_text(counted['baseline'])}")
    print("breakdown (medians of the same rounds):")
    print(f"  secret_matrix(app) alone, the page's AWS part:           {ms(matrix)}  ({matrix / base:.2f}x the baseline)")
    print(f"  page with secret_matrix stubbed (Django, template):      {ms(template)}  ({template / base:.2f}x the baseline)")
    print(f"    AWS calls of the stubbed page: {calls_text(counted['template'])}")
    print(f"  page - matrix - stubbed page (the rest, noise):          {ms(page - matrix - template)}")
    print(f"  raw describe_parameters walk, default page size:         {ms(describe)}  ({describe / base:.2f}x the baseline)")
    print(f"    AWS calls: {calls_text(counted['describe'])}")
    print(f"  raw describe_parameters walk, MaxResults=50:             {ms(describe50)}  ({describe50 / base:.2f}x the baseline)")
    print(f"    AWS calls: {calls_text(counted['describe50'])}")
    print(f"peak Python memory of one render (tracemalloc): {traced_peak / 1024:.0f} KiB")


def main() -> None:
    with django_on_emulator("bench-secrets-") as run_on:
        run(run_on.tmp, run_on.endpoint_url)


if __name__ == "__main__":
    main()
