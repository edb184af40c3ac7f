"""docker-compose.yml names the services with the right commands and environment.

Docker does not run here; this checks the file that `docker compose up` reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_all_eight_services_are_defined(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"web", "edge", "worker", "beat", "hostd", "postgres", "redis", "emulator"}


def test_console_processes_share_one_environment_of_real_services(compose: dict[str, Any]) -> None:
    for name in ("web", "edge", "worker", "beat", "hostd"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://console:console@postgres:5432/")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["AWS_ENDPOINT_URL"] == "http://emulator:5000"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required, never a default
        assert {"postgres", "redis", "emulator"} <= set(compose["services"][name]["depends_on"])


def test_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "gunicorn console.wsgi" in services["web"]["command"]
    # Threaded workers: a sync worker is killed after 30 s, in the middle of a large hosted download.
    assert "--threads 8" in services["web"]["command"]
    assert "migrate" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A console worker")
    assert services["beat"]["command"].startswith("celery -A console beat")
    assert services["emulator"]["command"] == "python -m moto.server -H 0.0.0.0 -p 5000"


def test_every_service_but_beat_has_a_healthcheck_and_data_lives_in_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "edge", "worker", "hostd", "postgres", "redis", "emulator"):
        assert services[name]["healthcheck"]["test"], name
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "beat-data", "compute-data", "web-run"}


def test_every_service_comes_back_after_a_crash(compose: dict[str, Any]) -> None:
    assert {name: service.get("restart") for name, service in compose["services"].items()} == {
        name: "unless-stopped" for name in ("web", "edge", "worker", "beat", "hostd", "postgres", "redis", "emulator")
    }


def test_hostd_shares_web_s_network_and_compute_folder_and_runs_servers_sandboxed(compose: dict[str, Any]) -> None:
    """web proxies to servers on 127.0.0.1 and asks hostd's socket in COMPUTE_DIR for them."""
    web, hostd = compose["services"]["web"], compose["services"]["hostd"]
    assert hostd["command"] == "python manage.py hostd"
    assert hostd["network_mode"] == "service:web"
    assert hostd["init"] is True  # PID 1 must reap the sandboxes' orphaned inner processes
    assert web["environment"]["COMPUTE_DIR"] == hostd["environment"]["COMPUTE_DIR"]
    folder = hostd["environment"]["COMPUTE_DIR"]
    assert f"compute-data:{folder}" in web["volumes"]
    assert f"compute-data:{folder}" in hostd["volumes"]
    assert (hostd["user"], hostd["cap_add"]) == ("root", compose["services"]["worker"]["cap_add"])
    assert "user" not in web  # the image's unprivileged user; the socket's group lets it in
    assert "chgrp console /var/lib/console/compute" in (ROOT / "Dockerfile").read_text()


def test_edge_fronts_gunicorn_on_its_socket_in_web_s_network(compose: dict[str, Any]) -> None:
    """The edge listens on the published port in web's namespace (it reaches servers on 127.0.0.1)
    and hands the rest to gunicorn's Unix socket, in a volume both mount at the same path."""
    web, edge = compose["services"]["web"], compose["services"]["edge"]
    socket_path = web["environment"]["EDGE_CONSOLE_SOCKET"]
    assert edge["environment"]["EDGE_CONSOLE_SOCKET"] == socket_path
    assert f"--bind unix:{socket_path}" in web["command"]
    assert edge["command"] == "python manage.py edge --bind 0.0.0.0:8000"
    assert edge["network_mode"] == "service:web"
    assert "${PORT:-8000}:8000" in web["ports"]
    folder = socket_path.rsplit("/", 1)[0]
    assert f"web-run:{folder}" in web["volumes"]
    assert f"web-run:{folder}" in edge["volumes"]
    assert edge["environment"]["COMPUTE_DIR"] == web["environment"]["COMPUTE_DIR"]  # it asks hostd too
    assert "user" not in edge  # the console's user, as web: the socket's folder is that user's alone
    assert f"mkdir -p -m 0700 {folder} && chown console {folder}" in (ROOT / "Dockerfile").read_text()


def test_settings_accept_the_compose_environment(compose: dict[str, Any]) -> None:
    """The console's settings load with exactly the environment compose gives it."""
    import subprocess
    import sys

    # As docker compose does: `${NAME:-default}` is the default when NAME is not set.
    env = {
        k: re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], str(v)) for k, v in compose["services"]["web"]["environment"].items()
    }
    env["SECRET_KEY"] = "x" * 50
    env["ALLOWED_HOSTS"] = "localhost,127.0.0.1,.localhost"
    env["SESSION_COOKIE_SECURE"] = "0"
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["AWS_ACCESS_KEY_ID"] = env["AWS_SECRET_ACCESS_KEY"] = "testing"
    code = "import console.settings as s; print(s.DATABASES['default']['HOST'], s.CELERY_BROKER_URL, s.AWS_ENDPOINT_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgres", "redis://redis:6379/0", "http://emulator:5000"]


def test_the_image_installs_the_pinned_requirements() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
