"""Settings for the test suite: the real settings with test-only defaults."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
# Each test run has its own queue and cache keys, so runs sharing a Redis (and the
# worker processes they start, which inherit these) never take each other's work. An
# xdist worker inherits its controller's values: it takes its own, or the workers of two
# xdist processes would take each other's tasks (and find no such job in their database).
_test_process = os.environ.get("PYTEST_XDIST_WORKER", "")
if os.environ.get("CONSOLE_TEST_PROCESS", _test_process) != _test_process:
    for _inherited in ("CELERY_QUEUE", "CACHE_KEY_PREFIX"):
        os.environ.pop(_inherited, None)
os.environ["CONSOLE_TEST_PROCESS"] = _test_process
os.environ.setdefault("CELERY_QUEUE", f"test-{os.getpid()}")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{os.getpid()}")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
# Every test's admin checks repositories; counters in the cache outlive a test's database
# rows (a user id comes back), so the limit's own test sets it low and starts it afresh.
os.environ.setdefault("GIT_CHECKS_PER_MINUTE", "1000")

# Under pytest-xdist each worker is a console of its own on this host, as two consoles on
# one machine would be: its own var/ (build workspaces, compute folders and hostd's socket,
# the file broker), host uids for builds and servers, and network-guard chain (which lets
# through only that worker's emulator). Two workers' real builds then share no uid, folder
# or firewall rule even though their job ids (one database each) are the same numbers.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and _xdist_worker[2:].isdigit():
    _slot = int(_xdist_worker[2:])
    os.environ.setdefault("CONSOLE_VAR_DIR", str(Path(__file__).resolve().parents[1] / "var" / f"test-{_xdist_worker}"))
    os.environ.setdefault("BUILD_UID_BASE", str(300_000 + 20_000 * _slot))
    os.environ.setdefault("BUILD_UID_COUNT", "10000")
    os.environ.setdefault("COMPUTE_UID_BASE", str(310_000 + 20_000 * _slot))
    os.environ.setdefault("COMPUTE_UID_COUNT", "4000")
    os.environ.setdefault("BUILD_GUARD_CHAIN", f"AMPLIFY-TEST-{_xdist_worker.upper()}")

from console.settings import *  # noqa: E402, F403 (after the environment above is set)

# The browser tests' live server speaks plain http.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Branch URLs in tests do not depend on the PORT of whoever runs them.
HOSTING_DOMAIN = "localhost:8000"
# Tests write the access log themselves (apps.hosting.access_log.flush), in their own transaction.
HOSTING_ACCESS_LOG_THREAD = False
