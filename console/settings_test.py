"""Settings for the test suite: the real settings with test-only defaults."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
# Each test run has its own queue and cache keys, so runs sharing a Redis (and the
# worker processes they start, which inherit these) never take each other's work.
os.environ.setdefault("CELERY_QUEUE", f"test-{os.getpid()}")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{os.getpid()}")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
# Every test's admin checks repositories; counters in the cache outlive a test's database
# rows (a user id comes back), so the limit's own test sets it low and starts it afresh.
os.environ.setdefault("GIT_CHECKS_PER_MINUTE", "1000")

from console.settings import *  # noqa: F403

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
