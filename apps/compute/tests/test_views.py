"""The branch page's server panel: its empty states, the servers' facts, crashes shown
escaped, the live output after an id, the download, and who may read them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.branches import services
from apps.branches.models import App, Branch
from apps.compute.models import ComputeDeployment, ComputeLogLine, ComputeServer
from apps.hosting.models import Deployment
from apps.hosting.tests.sites import new_job

MANIFEST = {"version": 1, "routes": [{"path": "/*", "target": {"kind": "Compute", "src": "default"}}],
            "framework": {"name": "next", "version": "14.2.3"}}  # fmt: skip


@pytest.fixture
def main(app: App) -> Branch:
    return app.branches.get(name="main")


def go_live(branch: Branch, *, compute: bool = True) -> ComputeDeployment | None:
    """A new deployment the branch serves, with a server part unless `compute` is False."""
    deployment = Deployment.objects.create(branch=branch, job_id=new_job(branch))
    Branch.objects.filter(pk=branch.pk).update(live_deployment=deployment)
    if not compute:
        return None
    return ComputeDeployment.objects.create(
        deployment=deployment,
        manifest=MANIFEST,
        bundle_sha256="a" * 64,
        bundle_bytes=3_500_000,
        runtime="nodejs20.x",
        entrypoint="server.js",
    )


def live_compute(branch: Branch) -> ComputeDeployment:
    compute = go_live(branch)
    assert compute is not None
    return compute


def add_lines(compute: ComputeDeployment, texts: list[str], stream: str = "stdout") -> list[ComputeLogLine]:
    branch = compute.deployment.branch
    now = timezone.now()
    return ComputeLogLine.objects.bulk_create(
        ComputeLogLine(branch=branch, deployment=compute, host="web-1", time=now, stream=stream, text=text) for text in texts
    )


def panel_url(app: App, branch: str = "main") -> str:
    return f"/apps/{app.app_id}/branches/{branch}/compute/"


def shown_lines(html: str) -> list[str]:
    return re.findall(r'<span class="text">(.*?)</span>', html)


def test_the_branch_page_loads_the_panel_after_it_renders(admin_client: Client, app: App, main: Branch) -> None:
    html = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert '<h2 id="server">Server</h2>' in html
    assert f'hx-get="{panel_url(app)}" hx-trigger="load"' in html


def test_a_branch_without_a_server_part_shows_the_static_empty_state(admin_client: Client, app: App, main: Branch) -> None:
    never_deployed = admin_client.get(panel_url(app)).content.decode()
    go_live(main, compute=False)
    static = admin_client.get(panel_url(app)).content.decode()
    for html in (never_deployed, static):
        assert "This branch serves static files only." in html
        assert "output: 'standalone'" in html
        assert ".amplify-hosting/deploy-manifest.json" in html
        assert "compute-log-poller" not in html


def test_a_server_part_that_never_ran_says_how_it_starts(admin_client: Client, app: App, main: Branch) -> None:
    live_compute(main)
    html = admin_client.get(panel_url(app)).content.decode()
    assert "No server has run yet: the first request to the branch URL starts it." in html
    assert "No output yet." in html
    assert "/compute/logs/?after=0" in html


def test_a_running_server_shows_its_facts(admin_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    ComputeServer.objects.create(
        deployment=compute, branch=main, host="web-1", state=ComputeServer.State.RUNNING, port=41234,
        started_at=timezone.now() - timedelta(minutes=5), restarts=2, last_exit_code=137,
    )  # fmt: skip
    html = admin_client.get(panel_url(app)).content.decode()
    assert '<span class="badge status-running">Running</span>' in html
    for fact in ("web-1", "41234", "5\xa0minutes ago", "<td>2</td>", "<td>137</td>"):
        assert fact in html
    for fact in ("next 14.2.3", "nodejs20.x", "server.js", "3.3\xa0MB"):
        assert fact in html
    assert 'role="alert"' not in html


def test_a_crashed_server_shows_its_last_output_escaped_and_why_it_stopped(admin_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    ComputeServer.objects.create(
        deployment=compute, branch=main, host="web-1", state=ComputeServer.State.CRASHED, port=41234,
        stopped_at=timezone.now(), stop_reason="exited with code 1", last_exit_code=1,
        last_output='<script>alert("owned")</script>\nError: boom',
    )  # fmt: skip
    add_lines(compute, ["<img src=x onerror=alert(1)>"], stream="stderr")
    html = admin_client.get(panel_url(app)).content.decode()
    assert '<span class="badge status-crashed">Crashed</span>' in html
    assert "The server crashed on web-1: exited with code 1." in html
    assert '<pre class="log">&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;\nError: boom</pre>' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>" not in html
    assert "<img" not in html
    assert 'class="stream-stderr"' in html


def test_a_crash_of_an_earlier_deployment_stays_shown_for_a_day(admin_client: Client, app: App, main: Branch) -> None:
    earlier = live_compute(main)
    crashed = ComputeServer.objects.create(
        deployment=earlier, branch=main, host="web-1", state=ComputeServer.State.FAILED,
        stop_reason="The server's bundle could not be prepared", last_output="<b>no entrypoint</b>",
    )  # fmt: skip
    live_compute(main)
    html = admin_client.get(panel_url(app)).content.decode()
    assert f"A server of an earlier deployment (job #{earlier.deployment.job.job_id}) could not start on web-1" in html
    assert "&lt;b&gt;no entrypoint&lt;/b&gt;" in html
    ComputeServer.objects.filter(pk=crashed.pk).update(updated_at=timezone.now() - timedelta(days=1, minutes=1))
    assert "earlier deployment" not in admin_client.get(panel_url(app)).content.decode()


def test_the_panel_shows_the_last_200_of_300_lines_oldest_first(admin_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    lines = add_lines(compute, [f"line {n:03}" for n in range(300)])
    html = admin_client.get(panel_url(app)).content.decode()
    assert shown_lines(html) == [f"line {n:03}" for n in range(100, 300)]
    assert f"/compute/logs/?after={lines[-1].pk}" in html
    assert "No output yet." not in html


def test_the_logs_endpoint_returns_only_the_lines_after_after(admin_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    lines = add_lines(compute, ["one", "two", "three", "four", "five"])
    html = admin_client.get(f"{panel_url(app)}logs/?after={lines[2].pk}").content.decode()
    assert shown_lines(html) == ["four", "five"]
    assert f'hx-swap-oob="true" hx-get="{panel_url(app)}logs/?after={lines[-1].pk}"' in html


def test_the_logs_endpoint_keeps_its_place_when_nothing_is_new(admin_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    lines = add_lines(compute, ["one"])
    html = admin_client.get(f"{panel_url(app)}logs/?after={lines[0].pk}").content.decode()
    assert shown_lines(html) == []
    assert f"logs/?after={lines[0].pk}" in html


@pytest.mark.parametrize("after", ["x", "-1", "1e3", str(2**63)])
def test_the_logs_endpoint_refuses_an_after_that_is_no_line_id(admin_client: Client, app: App, main: Branch, after: str) -> None:
    assert admin_client.get(f"{panel_url(app)}logs/", {"after": after}).status_code == 400


def test_the_download_gives_every_kept_line_as_text(admin_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    add_lines(compute, [f"line {n:03}" for n in range(300)])
    add_lines(compute, ["<script>kept as is</script>"], stream="stderr")
    response = admin_client.get(f"{panel_url(app)[:-1]}/logs.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{app.app_id}-main-server.log"'
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = text.splitlines()
    assert len(rows) == 301
    assert [row.split(": ", 1)[1] for row in rows] == [f"line {n:03}" for n in range(300)] + ["<script>kept as is</script>"]
    assert rows[0].split(" ")[1:3] == ["web-1", "stdout:"]


def test_anonymous_users_are_sent_to_sign_in(client: Client, app: App, main: Branch) -> None:
    for path in (panel_url(app), f"{panel_url(app)}logs/?after=0", f"{panel_url(app)}logs.txt"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_viewer_can_read_the_panel_its_output_and_the_download(viewer_client: Client, app: App, main: Branch) -> None:
    compute = live_compute(main)
    add_lines(compute, ["hello"])
    for path in (panel_url(app), f"{panel_url(app)}logs/?after=0", f"{panel_url(app)}logs.txt"):
        response = viewer_client.get(path)
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        assert b"hello" in body


def test_another_apps_branch_is_not_found(admin_client: Client, app: App, main: Branch) -> None:
    other = services.app_create(actor=None, name="Other", repository=app.repository, production_branch="main")
    services.branch_connect(actor=None, app=other, name="dev")
    assert admin_client.get(panel_url(other, "dev")).status_code == 200
    for path in (panel_url(app, "dev"), f"{panel_url(app, 'dev')}logs/", f"{panel_url(app, 'dev')}logs.txt"):
        assert admin_client.get(path).status_code == 404


def test_panel_and_output_answer_get_only(admin_client: Client, app: App, main: Branch) -> None:
    for path in (panel_url(app), f"{panel_url(app)}logs/", f"{panel_url(app)}logs.txt"):
        assert admin_client.post(path).status_code == 405
