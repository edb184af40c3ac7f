"""A compute server is hostile code like a build: the attacks of tests/test_hostile_builds.py,
made by a Node.js server in its sandbox, find nothing of the console, of the machine's
services or of another app's server, while visitors still reach it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.branches import services
from apps.branches.models import App
from apps.compute.runtime import run_layout
from apps.compute.supervisor import Supervisor
from apps.compute.tests.conftest import needs_servers
from apps.compute.tests.servers import deploy, server_folder

pytestmark = [
    *needs_servers,
    pytest.mark.skipif(os.geteuid() != 0, reason="servers run as users of their own only under a root supervisor"),
    pytest.mark.django_db(transaction=True),
]

# On GET /probe?targets=<json>: tries every file read and TCP connection it is given and answers
# with what it got; also its environment and the processes it can see.
PROBE_JS = """
const http = require('http'), fs = require('fs'), net = require('net');
function tryConnect(host, port) {
  return tryOptions({host, port, timeout: 3000});
}
function tryOptions(options) {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    socket.on('connect', () => { socket.destroy(); resolve('REACHED'); });
    socket.on('timeout', () => { socket.destroy(); resolve('BLOCKED timeout'); });
    socket.on('error', (e) => resolve('BLOCKED ' + e.code));
  });
}
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const targets = JSON.parse(url.searchParams.get('targets') || '{"files": [], "ports": []}');
  const report = {files: {}, ports: {}, env: process.env, pids: [], environ: ''};
  for (const file of targets.files) {
    try { report.files[file] = 'READ ' + fs.readFileSync(file, 'utf8').slice(0, 200); }
    catch (e) { report.files[file] = 'DENIED ' + e.code; }
  }
  for (const [host, port] of targets.ports) report.ports[host + ':' + port] = await tryConnect(host, port);
  for (const path of targets.sockets || []) report.ports[path] = await tryOptions({path, timeout: 3000});
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    report.pids.push(name);
    try { report.environ += fs.readFileSync('/proc/' + name + '/environ', 'utf8') + '\\n'; } catch (e) {}
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(report));
}).listen(+process.env.PORT, process.env.HOSTNAME);
"""


@pytest.fixture
def marker() -> Iterator[tuple[Path, str]]:
    """A file of the console's own (under var/), holding a random value no server may read."""
    value = f"console-only-{secrets.token_hex(16)}"
    path = settings.BASE_DIR / "var" / f"isolation-marker-{secrets.token_hex(6)}"
    path.write_text(value)
    try:
        yield path, value
    finally:
        path.unlink(missing_ok=True)


@pytest.fixture
def console_port() -> Iterator[int]:
    """A port of this machine standing for the console's own web server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.fixture
def console_socket(settings: Any) -> Iterator[str]:
    """gunicorn's Unix socket behind the edge (EDGE_CONSOLE_SOCKET), listening, in a folder as runconsole makes it."""
    folder = settings.BASE_DIR / "var" / f"run-test-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700, parents=True)
    path = folder / "web.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    settings.EDGE_CONSOLE_SOCKET = path
    try:
        yield str(path)
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


def probe(port: int, files: list[str], ports: list[tuple[str, int]], sockets: list[str] | None = None) -> dict:
    query = urllib.parse.urlencode({"targets": json.dumps({"files": files, "ports": ports, "sockets": sockets or []})})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe?{query}", timeout=30) as answer:
        return json.loads(answer.read())


def test_a_server_reads_nothing_of_the_console_its_services_or_another_app_s_server(
    app: App, tmp_path: Path, supervisor: Supervisor, marker: tuple[Path, str], console_port: int, console_socket: str
) -> None:
    branch = app.branches.get(name="main")
    other = services.app_create(actor=None, name="Victim", repository=app.repository, production_branch="main")
    victim = deploy(other.branches.get(name="main"), server_folder(tmp_path, "victim"))
    supervisor.ensure(victim.pk)
    victim_file = run_layout(victim.pk).src / "server.js"
    assert victim_file.exists()
    attacker = deploy(branch, server_folder(tmp_path, "attacker", source=PROBE_JS))
    port = supervisor.ensure(attacker.pk)

    marker_path, marker_value = marker
    database = Path(str(connection.settings_dict["NAME"]))
    files = [str(marker_path), str(settings.BASE_DIR / "var" / "secret_key"), str(settings.BASE_DIR / "manage.py")]
    files += [str(victim_file), "/root/.aws/credentials"]
    if database.is_absolute() and database.exists():
        files.append(str(database))
    ports = [("127.0.0.1", 5432), ("127.0.0.1", 6379), ("127.0.0.1", console_port), ("169.254.169.254", 80)]
    ports.append(("127.0.0.1", supervisor.servers[victim.pk].port))
    # gunicorn behind the edge believes who the visitor is on its socket: not in a server's world.
    report = probe(port, files, ports, [console_socket])

    for path in files:
        assert report["files"][path].startswith("DENIED"), (path, report["files"][path])
    for target, outcome in report["ports"].items():
        assert outcome.startswith("BLOCKED"), (target, outcome)
    text = json.dumps(report)
    assert marker_value not in text
    assert settings.SECRET_KEY not in text
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert name not in report["env"], name
        assert f"{name}=" not in report["environ"], name
    assert len(report["pids"]) < 5, report["pids"]  # its own namespace: bwrap and node, nothing of the host
    # And a visitor still reaches it: the firewall lets replies through, not new connections.
    assert json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read())["files"] == {}
