"""`make run`'s command, run for real: emulator, migrate, seed, worker, beat, hostd, web; Ctrl-C stops all.

Uses the embedded default (SQLite, file broker) in a temporary var dir,
whatever DATABASE_URL / REDIS_URL the test run itself has.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from console.emulator import free_port

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "demo-password-for-tests"


def start(var_dir: Path, port: int, emulator_port: int, password: str | None) -> subprocess.Popen[str]:
    # As a developer's shell would have it: none of the test run's own settings (its database
    # and broker, and its eager tasks, under which the seed would run every demo build inline).
    dropped = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "AWS_ENDPOINT_URL"}
    dropped.add("CELERY_TASK_ALWAYS_EAGER")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"CONSOLE_DEV": "1", "CONSOLE_VAR_DIR": str(var_dir), "PORT": str(port), "EMULATOR_PORT": str(emulator_port)})
    # Builds run as users of their own, who cannot pass through pytest's private folders.
    workspaces = Path(tempfile.mkdtemp(prefix="make-run-workspaces-"))
    workspaces.chmod(0o755)
    env["BUILD_WORKSPACE_DIR"] = str(workspaces)
    env.pop("CONSOLE_ADMIN_PASSWORD", None)
    if password:
        env["CONSOLE_ADMIN_PASSWORD"] = password
    return subprocess.Popen(
        [sys.executable, "manage.py", "runconsole"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def read_until_banner(process: subprocess.Popen[str], timeout: float = 180) -> str:
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if "Press Ctrl-C to stop everything." in line:
            return "".join(seen)
    raise AssertionError("no banner:\n" + "".join(seen))


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


def sign_in(port: int, password: str) -> tuple[urllib.request.OpenerDirector, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    opener.open(f"{base}/accounts/login/").read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode({"username": "admin", "password": password, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"})
    return opener, opener.open(request).read().decode()


def sandbox_rows(page: str) -> dict[tuple[str, str], str]:
    """{(owner, project): the row's HTML} of the sandbox inventory table."""
    rows = {}
    for row in re.split(r"<tr[ >]", page)[1:]:  # rows carry an id (and hx-* while being deleted)
        owner = re.search(r'<th scope="row"><a href="/sandboxes/\d+/" title="[^"]*">([^<]+)</a></th>', row)
        project = re.search(r"</th>\s*<td>([^<]+)", row)
        if owner and project:
            rows[owner.group(1), project.group(1).strip()] = row.split("</tr>")[0]
    return rows


def assert_demo_sandboxes(opener: urllib.request.OpenerDirector, port: int) -> None:
    """The seeded sandboxes are in the inventory at once: carol's stale, dave's failed."""
    base = f"http://127.0.0.1:{port}/sandboxes/"
    rows = sandbox_rows(opener.open(base).read().decode())
    assert set(rows) == {
        ("alice", "todoapp"), ("bob", "todoapp"), ("carol", "todoapp"), ("dave", "todoapp"),
        ("alice", "billingservice"), ("erin", "billingservice"),
    }, rows  # fmt: skip
    assert "Todo app (demo)" in rows["alice", "todoapp"]  # attributed to the demo app
    assert "Todo app (demo)" not in rows["erin", "billingservice"]
    assert "status-stale" in rows["carol", "todoapp"]
    assert "45 d" in rows["carol", "todoapp"]
    failed = rows["dave", "todoapp"]
    assert "status-failed" in failed
    assert "UPDATE_ROLLBACK_COMPLETE" in failed
    assert "failed to update: [data7552DF31]" in failed
    assert set(sandbox_rows(opener.open(f"{base}?stale=1").read().decode())) == {("carol", "todoapp")}
    assert set(sandbox_rows(opener.open(f"{base}?status=FAILED").read().decode())) == {("dave", "todoapp")}


def assert_demo_data(opener: urllib.request.OpenerDirector, port: int, app_id: str) -> None:
    """Main's Data page lists the example's three models; once the data task has
    seen main's build succeed, Todo has rows (40: a first page of 25)."""
    base = f"http://127.0.0.1:{port}/apps/{app_id}/branches/main/data/"
    home = opener.open(base).read().decode()
    assert re.findall(r'/data/models/(\w+)/"><strong>', home) == ["Note", "Project", "Todo"], home
    deadline = time.monotonic() + 60
    todos = ""
    while time.monotonic() < deadline and "Page 1 · 25 records" not in todos:
        time.sleep(1)
        todos = opener.open(f"{base}models/Todo/").read().decode()
    assert "Page 1 · 25 records" in todos, todos
    assert 'name="keys"' in todos


def assert_api(var_dir: Path, port: int, app_id: str) -> None:
    """A key made with the CLI signs boto3 calls that gunicorn serves (paths as sent, RAW_URI)."""
    import boto3

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    env.update({"CONSOLE_DEV": "1", "CONSOLE_VAR_DIR": str(var_dir)})
    made = subprocess.run(
        [sys.executable, "manage.py", "apikey", "create", "--user", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    key_id, secret = (line.split(": ", 1)[1] for line in made.stdout.splitlines())
    client = boto3.client(
        "amplify", endpoint_url=f"http://127.0.0.1:{port}/amplify-api", region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
    )  # fmt: skip
    apps = {app["name"]: app["appId"] for app in client.list_apps()["apps"]}
    assert set(apps) == {"Todo app (demo)", "nextjs-demo", "frontend-demo"}
    assert apps["Todo app (demo)"] == app_id
    assert client.get_branch(appId=app_id, branchName="main")["branch"]["stage"] == "PRODUCTION"
    assert client.list_jobs(appId=app_id, branchName="main")["jobSummaries"][0]["status"] == "SUCCEED"


WEBHOOK_TOKEN = "webhook-token-that-must-not-be-logged"


def webhook_call(port: int) -> None:
    url = f"http://127.0.0.1:{port}/webhooks?id=0f3c&token={WEBHOOK_TOKEN}&operation=startbuild"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=10)
    assert refused.value.code in (401, 403, 404)


def nextjs_demo_line() -> str:
    """The start of the banner's Next.js demo line: a build of main where Node.js can run it."""
    from apps.demo.nextjs_demo import node_available

    reason = node_available()
    return f"  Next.js demo: NOT built: {reason}" if reason else "  Next.js demo: build #1 queued: npm ci and next build"


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def descendants_alive(var_dir: Path) -> list[str]:
    result = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if str(var_dir) in line]


def test_make_run_brings_up_a_seeded_console_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    process = start(tmp_path, port, emulator_port, PASSWORD)
    try:
        banner = read_until_banner(process)
        assert f"Amplify console: http://127.0.0.1:{port}/" in banner
        assert "Sign in as: admin" in banner
        assert f"Password:   {PASSWORD}" in banner
        assert f"AWS emulator (moto) on http://127.0.0.1:{emulator_port}" in banner
        assert f"Amplify API: http://127.0.0.1:{port}/amplify-api (keys: http://127.0.0.1:{port}/settings/api-keys/)" in banner
        assert "build #1 of main queued" in banner
        assert "build #1 of dev queued" in banner
        assert "sandbox inventory refreshed: 6 new, 0 updated, 0 gone" in banner
        assert "demo data for main queued (written after its build)" in banner
        assert "Builds:     isolated (bubblewrap sandbox, no console credentials" in banner
        assert f"Compute:    server-rendered apps run under hostd ({tmp_path / 'compute' / 'hostd.sock'})" in banner
        assert nextjs_demo_line() in banner
        wait_http(f"http://127.0.0.1:{port}/accounts/login/")
        opener, dashboard = sign_in(port, PASSWORD)
        assert "Todo app (demo)" in dashboard
        assert_demo_sandboxes(opener, port)
        app_id = re.search(r'href="/apps/(d[a-z0-9]{13})/">Todo app \(demo\)<', dashboard).group(1)  # type: ignore[union-attr]
        # The worker builds both demo branches: the overview shows them succeeded,
        # and the hosted site answers at the branch URL.
        deadline = time.monotonic() + 120
        overview = ""
        while time.monotonic() < deadline and overview.count("Succeeded") < 2:
            time.sleep(1)
            overview = opener.open(f"http://127.0.0.1:{port}/apps/{app_id}/").read().decode()
        assert overview.count("Succeeded") == 2, overview
        job_log = opener.open(f"http://127.0.0.1:{port}/apps/{app_id}/branches/main/jobs/1/log.txt").read().decode()
        assert "## Isolated build (bubblewrap): user build, network on" in job_log
        assert "temporary credentials of the service role arn:aws:iam::" in job_log
        site = urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": f"main.{app_id}.localhost:{port}"})
        )
        assert b"<h1>Todo app</h1>" in site.read()
        assert_demo_data(opener, port, app_id)
        assert_api(tmp_path, port, app_id)
        webhook_call(port)
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    # gunicorn logged the webhook call, not its token.
    assert f"token={WEBHOOK_TOKEN}" not in output
    assert "POST /webhooks?id=0f3c&token=[redacted]&operation=startbuild HTTP/1.1" in output
    assert "Stopped the console, its worker, beat, hostd, edge and emulator." in output
    assert not descendants_alive(tmp_path)

    # A second run is harmless: same demo, the password is not shown again.
    process = start(tmp_path, port, emulator_port, None)
    try:
        banner = read_until_banner(process)
        assert "the one printed on the first run" in banner
        assert "demo app created" not in banner
        wait_http(f"http://127.0.0.1:{port}/accounts/login/")
        opener, dashboard = sign_in(port, PASSWORD)
        assert len(re.findall(r"Todo app \(demo\)</a>", dashboard)) == 1
        # The emulator starts empty again: the sandboxes are deployed anew, the old
        # stacks' rows are marked gone, and the inventory shows the same six.
        assert "sandbox inventory refreshed: 6 new, 0 updated, 6 gone" in banner
        assert_demo_sandboxes(opener, port)
    finally:
        stop(process)
    assert process.returncode == 0


def test_a_busy_port_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = start(tmp_path, port, free_port(), PASSWORD)
        output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert f"Port {port} is in use" in output
