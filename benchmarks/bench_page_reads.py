"""Pages that show remote state, with the remotes hanging: the pattern preview (the
repository's branches) and the branch page and its status fragment (the branch's stack).

Work: GETs through Django's test Client as a signed-in admin, with the app's repository
an https "git host" that accepts connections and never answers, and the AWS endpoint a
server that does the same (CloudFormation hangs). The pages read what a worker last read
(apps.branches.remote_reads) and ask for a new read; none may wait on the remote. Rounds
alternate the pages. Baseline in the same run: the app overview page, which reads only
the database. For scale: what one such page would have waited before, had it called the
remote itself (git's timeout, GIT_TIMEOUT_SECONDS; CloudFormation's read timeout and
retries).

Setup, in a temporary directory removed at the end: a fresh SQLite database, one app
made from a local bare repository (then pointed at the hanging host), a moto server
unused but for the settings' sake. Prints medians and p90 per page, the ratio to the
baseline, the goal check (every page's median under 100 ms) and the peak Python memory
of one render of each.
"""

from __future__ import annotations

import statistics
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

from emulator_support import django_on_emulator, make_repository, ms, timed

from apps.branches.tests.https_git import silent_server

ROUNDS = 41
GOAL_MS = 100.0


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


def main() -> None:
    with silent_server() as git_port, silent_server() as aws_port:

        def hanging_aws(_emulator_url: str) -> tuple[str, Callable[[], None]]:
            return f"http://127.0.0.1:{aws_port}", lambda: None

        with django_on_emulator("bench-page-reads-", proxy=hanging_aws) as emulated:
            run(emulated.tmp, f"https://127.0.0.1:{git_port}/owner/repo.git")


def run(tmp: Any, hanging_repository: str) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from apps.branches.models import App
    from apps.branches.services import app_create
    from console.roles import Role, set_role

    call_command("migrate", verbosity=0)
    admin = get_user_model().objects.create_user("bench-admin")  # force_login: no password needed
    set_role(admin, Role.ADMIN)
    app = app_create(actor=None, name="Bench", repository=str(make_repository(tmp)), production_branch="main")
    App.objects.filter(pk=app.pk).update(repository=hanging_repository)
    client = Client(HTTP_HOST="localhost")  # the test settings allow no "testserver" outside a test run
    client.force_login(admin)
    pages = {
        "pattern preview": f"/apps/{app.app_id}/git/patterns/?auto_detect_patterns=feature/*",
        "branch page": f"/apps/{app.app_id}/branches/main/",
        "branch status": f"/apps/{app.app_id}/branches/main/status/",
        "baseline: app overview (database only)": f"/apps/{app.app_id}/",
    }
    for url in pages.values():  # warm up: templates, the first get_or_create of each read
        assert client.get(url).status_code == 200
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(ROUNDS):
        for name, url in pages.items():
            seconds, response = timed(partial(client.get, url))
            assert response.status_code == 200, (name, response.status_code)
            times[name].append(seconds)
    peaks = {}
    for name, url in pages.items():
        tracemalloc.start()
        client.get(url)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    baseline = statistics.median(times["baseline: app overview (database only)"])
    print(f"{ROUNDS} rounds; the git host and the AWS endpoint accept connections and never answer")
    met = True
    for name, values in times.items():
        median = statistics.median(values)
        line = f"{name:42s} median {ms(median):>9s}  p90 {ms(p90(values)):>9s}  ratio {median / baseline:5.2f}"
        print(f"{line}  peak {peaks[name] / 1024:7.0f} KiB")
        met = met and median * 1000 < GOAL_MS
    aws_wait = settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT
    print(
        f"a page calling the remote itself would have waited: git {settings.GIT_TIMEOUT_SECONDS} s, "
        f"CloudFormation {aws_wait:.0f} s per attempt x {settings.AWS_MAX_ATTEMPTS} attempts"
    )
    print(f"goal: every page's median under {GOAL_MS:.0f} ms: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
