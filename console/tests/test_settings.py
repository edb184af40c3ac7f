"""Settings come from the environment and reject bad values at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.env import env_bool, env_int, env_list, env_regions, env_url

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import console.settings in a fresh interpreter with exactly these variables."""
    base = {"PATH": os.environ["PATH"], "CONSOLE_VAR_DIR": str(ROOT / "var" / "settings-test")}
    code = "import console.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.ALLOWED_HOSTS)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, check=False
    )


def test_secret_key_is_required_outside_make_run() -> None:
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_make_run_mode_generates_a_secret_key_and_turns_debug_on() -> None:
    result = load_settings(CONSOLE_DEV="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True django.db.backends.sqlite3 filesystem://")


def test_debug_is_off_by_default_and_sqlite_and_file_broker_without_urls() -> None:
    result = load_settings(SECRET_KEY="k" * 40)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False django.db.backends.sqlite3 filesystem://")


def test_postgres_and_redis_urls_are_used_when_set() -> None:
    result = load_settings(SECRET_KEY="k" * 40, DATABASE_URL="postgres://u@db:5432/console", REDIS_URL="redis://cache:6379/0")
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql redis://cache:6379/0" in result.stdout


def test_allowed_hosts_come_from_the_environment() -> None:
    result = load_settings(SECRET_KEY="k" * 40, ALLOWED_HOSTS="console.example.com, .example.org")
    assert result.returncode == 0, result.stderr
    assert "['console.example.com', '.example.org']" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://root@db/console", "DATABASE_URL must be a URL starting with"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL must be a URL starting with redis://"),
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("AWS_REGION", "mars-north", "not an AWS region name"),
        ("CONSOLE_AWS_REGIONS", "us-east-1,,eu-west-1", "empty item"),
        ("AWS_ENDPOINT_URL", "localhost:4566", "AWS_ENDPOINT_URL must be a URL"),
        ("AWS_MAX_ATTEMPTS", "lots", "must be a whole number"),
        ("SECRET_KEY", "short", "at least 32 characters"),
        ("HOSTING_SCHEME", "ftp", "HOSTING_SCHEME must be http or https"),
        ("TRUSTED_PROXY_HEADER", "X-Forwarded-For: 1.2.3.4", "TRUSTED_PROXY_HEADER must be a header name"),
        ("TRUSTED_PROXY_COUNT", "0", "TRUSTED_PROXY_COUNT must be at least 1"),
        ("LOGIN_MAX_FAILURES", "none", "LOGIN_MAX_FAILURES must be a whole number"),
    ],
)
def test_bad_values_stop_start_up_with_a_clear_message(variable: str, value: str, message: str) -> None:
    env = {"SECRET_KEY": "k" * 40, variable: value}
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_env_helpers_accept_good_values() -> None:
    environ = {"FLAG": "yes", "N": "7", "L": "a, b", "U": "https://x.example/", "R": "eu-west-1,us-east-1"}
    assert env_bool("FLAG", False, environ=environ) is True
    assert env_bool("MISSING", True, environ=environ) is True
    assert env_int("N", 1, minimum=1, maximum=10, environ=environ) == 7
    assert env_list("L", [], environ=environ) == ["a", "b"]
    assert env_url("U", schemes=("https",), environ=environ) == "https://x.example/"
    assert env_regions("R", [], environ=environ) == ["eu-west-1", "us-east-1"]


def test_env_int_rejects_values_out_of_range() -> None:
    with pytest.raises(ImproperlyConfigured, match="at most 10"):
        env_int("N", 1, maximum=10, environ={"N": "11"})
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 1, minimum=1, environ={"N": "0"})


def test_debug_logging_never_lets_botocore_log_request_bodies() -> None:
    # botocore logs whole request bodies (secret values, temporary passwords) at DEBUG.
    code = (
        "import logging, logging.config, console.settings as s; logging.config.dictConfig(s.LOGGING); "
        "print(logging.getLogger().level, *(logging.getLogger(n).getEffectiveLevel() for n in "
        "('botocore', 'botocore.endpoint', 'boto3', 'urllib3')))"
    )
    base = {"PATH": os.environ["PATH"], "CONSOLE_VAR_DIR": str(ROOT / "var" / "settings-test"), "SECRET_KEY": "k" * 40}
    levels = {}
    for level in ("DEBUG", "WARNING"):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**base, "LOG_LEVEL": level}, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        levels[level] = [int(n) for n in result.stdout.split()]
    assert levels["DEBUG"] == [10, 20, 20, 20, 20]  # the console's own DEBUG, botocore's INFO
    assert levels["WARNING"] == [30, 30, 30, 30, 30]  # and never chattier than asked
