"""Settings of the console, all read from the environment (see README)."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from console.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_regions,
    env_required,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files of the embedded default (SQLite, file broker, emulator state).
VAR_DIR = Path(env_str("CONSOLE_VAR_DIR") or BASE_DIR / "var")

# `make run` sets CONSOLE_DEV=1: debug on, a generated secret key kept in var/.
DEV_MODE = env_bool("CONSOLE_DEV", False)
DEBUG = env_bool("DEBUG", DEV_MODE)


def _dev_secret_key() -> str:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if DEV_MODE:
    SECRET_KEY = env_str("SECRET_KEY") or _dev_secret_key()
else:
    SECRET_KEY = env_required(
        "SECRET_KEY", hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", ".localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "console",
    "apps.branches",
    "apps.builds",
    "apps.gitops",
    "apps.hosting",
    "apps.compute",
    "apps.edge",
    "apps.sandboxes",
    "apps.secrets",
    "apps.datamanager",
    "apps.storage",
    "apps.amplify_api",
    "apps.users",
    "apps.notifications",
    "apps.prstatus",
    "apps.functions",
    "apps.insights",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "console.audit.AuditContextMiddleware",
    "apps.hosting.serving.HostedSiteMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "console.roles.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.roles.role_context",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL when DATABASE_URL says so.
_database_url = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'console.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql"),
)
assert _database_url is not None
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat write concurrently: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    # A file, not memory, so worker processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker and cache: Redis when REDIS_URL is set, else server-free stand-ins.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    if REDIS_URL.startswith("redis://"):  # rediss:// keeps kombu's own (TLS) handling
        CELERY_BROKER_TRANSPORT = "console.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
    CACHES = {"default": {"BACKEND": "console.cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}}

# Consoles (or test runs) sharing one Redis keep apart by queue and cache prefix.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "console")
CACHES["default"]["KEY_PREFIX"] = env_str("CACHE_KEY_PREFIX") or "console"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600, minimum=10)

# --- AWS: credentials come from boto3's standard chain; these shape the clients.
AWS_ENDPOINT_URL = env_url("AWS_ENDPOINT_URL", schemes=("http", "https"))
AWS_REGION = env_regions("AWS_REGION", [env_str("AWS_DEFAULT_REGION") or "us-east-1"])[0]
AWS_REGIONS = env_regions("CONSOLE_AWS_REGIONS", [AWS_REGION])
AWS_MAX_ATTEMPTS = env_int("AWS_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
AWS_CONNECT_TIMEOUT = env_float("AWS_CONNECT_TIMEOUT", 5.0, minimum=0.1)
AWS_READ_TIMEOUT = env_float("AWS_READ_TIMEOUT", 30.0, minimum=0.1)

# --- Hosting: branch URLs are <scheme>://<branch>.<appId>.<HOSTING_DOMAIN>/; the
# console serves them itself when a request's Host matches (*.localhost works
# without DNS in browsers).
HOSTING_DOMAIN = env_str("HOSTING_DOMAIN", f"localhost:{env_int('PORT', 8000, minimum=1, maximum=65535)}")
HOSTING_SCHEME = env_str("HOSTING_SCHEME", "http")
if HOSTING_SCHEME not in ("http", "https"):
    raise ImproperlyConfigured(f"HOSTING_SCHEME must be http or https; got {HOSTING_SCHEME!r}.")
# Deployed files and build caches live in this bucket (created on first use), by content hash.
HOSTING_BUCKET = env_str("HOSTING_BUCKET", "amplify-console-hosting") or "amplify-console-hosting"
# Deployments kept per branch (the live one always is); older ones and unreferenced objects are collected.
HOSTING_KEEP_DEPLOYMENTS = env_int("HOSTING_KEEP_DEPLOYMENTS", 10, minimum=1, maximum=1000)
# An object younger than this is never collected: a build may have stored it and not yet saved its manifest.
HOSTING_GC_GRACE_MINUTES = env_int("HOSTING_GC_GRACE_MINUTES", 240, minimum=1)
# Access-log records are kept this many days (the download offers at most 7 at a time).
HOSTING_ACCESS_LOG_DAYS = env_int("HOSTING_ACCESS_LOG_DAYS", 30, minimum=1, maximum=3650)
HOSTING_ACCESS_LOG_THREAD = True
# Each web process keeps hosted files up to 256 KiB in memory, up to this many MiB (0: none).
HOSTING_MEMORY_CACHE_MB = env_int("HOSTING_MEMORY_CACHE_MB", 64, minimum=0, maximum=65536)
# Custom domains: the host name their DNS records point at (a CNAME; an apex gets A records
# to its addresses), i.e. where the proxy in front of the console is reachable.
HOSTING_DNS_TARGET = (env_str("HOSTING_DNS_TARGET") or str(HOSTING_DOMAIN).split(":")[0]).lower().rstrip(".")
_DNS_NAME = r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
try:
    ipaddress.ip_address(HOSTING_DNS_TARGET)
except ValueError:
    if not re.fullmatch(_DNS_NAME, HOSTING_DNS_TARGET):
        raise ImproperlyConfigured(
            f"HOSTING_DNS_TARGET must be a host name or an IP address (no scheme or port); got {HOSTING_DNS_TARGET!r}."
        ) from None

GIT_TIMEOUT_SECONDS = env_int("GIT_TIMEOUT_SECONDS", 30, minimum=1, maximum=600)
# What must stay interactive (an admin saving a repository URL, connecting a branch) waits
# at most this long for git, at most this many times a minute per user.
GIT_CHECK_TIMEOUT_SECONDS = env_int("GIT_CHECK_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
GIT_CHECKS_PER_MINUTE = env_int("GIT_CHECKS_PER_MINUTE", 10, minimum=1, maximum=1000)
# Pages show what a worker last read of a repository or a stack; older than this, they ask for a new read.
REMOTE_READ_FRESH_SECONDS = env_int("REMOTE_READ_FRESH_SECONDS", 60, minimum=1, maximum=86400)

# --- Builds.
BUILD_WORKSPACE_DIR = Path(env_str("BUILD_WORKSPACE_DIR") or VAR_DIR / "workspaces")
# Node.js installations builds choose among (README, "Node.js versions"), laid out
# <dir>/<major>/bin/node; the system's `node` on PATH is the default beside them.
BUILD_NODE_DIR = Path(env_str("BUILD_NODE_DIR") or "/opt/amplify-node")
if not BUILD_NODE_DIR.is_absolute():
    raise ImproperlyConfigured(f"BUILD_NODE_DIR must be an absolute path; got {str(BUILD_NODE_DIR)!r}.")
BUILD_TIMEOUT_MINUTES = env_int("BUILD_TIMEOUT_MINUTES", 30, minimum=1, maximum=480)
# A claimed job whose worker has not written a heartbeat for this long is failed.
BUILD_HEARTBEAT_TIMEOUT_SECONDS = env_int("BUILD_HEARTBEAT_TIMEOUT_SECONDS", 90, minimum=3)
BUILD_REAPER_INTERVAL_SECONDS = env_float("BUILD_REAPER_INTERVAL_SECONDS", 30.0, minimum=1.0)
BUILD_ARTIFACT_MAX_BYTES = env_int("BUILD_ARTIFACT_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
BUILD_CACHE_MAX_BYTES = env_int("BUILD_CACHE_MAX_BYTES", 100 * 1024 * 1024, minimum=0)
# Isolation of builds (apps/builds/sandbox.py): "on" runs each build under bubblewrap
# and refuses builds where that is impossible; "off" runs them as the worker, on purpose.
BUILD_ISOLATION = env_str("BUILD_ISOLATION", "on") or "on"
if BUILD_ISOLATION not in ("on", "off"):
    raise ImproperlyConfigured(f"BUILD_ISOLATION must be on or off; got {BUILD_ISOLATION!r}.")
# Builds with the network on are kept off this host's addresses by the firewall
# (apps/builds/netguard.py); "off" lets them run without that guard.
BUILD_NETWORK_GUARD = env_str("BUILD_NETWORK_GUARD", "on") or "on"
if BUILD_NETWORK_GUARD not in ("on", "off"):
    raise ImproperlyConfigured(f"BUILD_NETWORK_GUARD must be on or off; got {BUILD_NETWORK_GUARD!r}.")
BUILD_BLOCKED_NETWORKS = env_list("BUILD_BLOCKED_NETWORKS", [])
for _cidr in BUILD_BLOCKED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"BUILD_BLOCKED_NETWORKS: {_cidr!r} is not a network such as 10.0.0.0/8.") from None
# The iptables chain of the network guard (apps/builds/netguard.py). Consoles that share a
# host (staging and production workers on one machine) each need their own: the chain lets
# through the AWS endpoint of its console only.
BUILD_GUARD_CHAIN = env_str("BUILD_GUARD_CHAIN", "AMPLIFY-BUILDS") or "AMPLIFY-BUILDS"
if not re.fullmatch(r"[A-Za-z0-9_-]{1,28}", BUILD_GUARD_CHAIN):
    raise ImproperlyConfigured(
        f"BUILD_GUARD_CHAIN must be 1-28 letters, digits, '-' or '_' (an iptables chain); got {BUILD_GUARD_CHAIN!r}."
    )
# Host uids of builds when the worker runs as root: one per job, modulo the count.
BUILD_UID_BASE = env_int("BUILD_UID_BASE", 200000, minimum=1000)
BUILD_UID_COUNT = env_int("BUILD_UID_COUNT", 60000, minimum=1)
# Limits of one build: processes, memory (private writable memory per process), CPU time per
# process, and what it may write to disk.
BUILD_MAX_PROCESSES = env_int("BUILD_MAX_PROCESSES", 512, minimum=16)
BUILD_MEMORY_LIMIT_MB = env_int("BUILD_MEMORY_LIMIT_MB", 8192, minimum=256)
BUILD_CPU_LIMIT_SECONDS = env_int("BUILD_CPU_LIMIT_SECONDS", 3600, minimum=10)
BUILD_DISK_LIMIT_MB = env_int("BUILD_DISK_LIMIT_MB", 10240, minimum=16)
# --- Compute: server-rendered apps (WEB_COMPUTE) run as one Node.js server process per
# live deployment, supervised by `manage.py hostd` on each machine that serves sites
# (apps/compute). Their files and sockets live under COMPUTE_DIR.
COMPUTE_DIR = Path(env_str("COMPUTE_DIR") or VAR_DIR / "compute")
# A server with no request for this long is stopped; the next request starts it again.
COMPUTE_IDLE_MINUTES = env_float("COMPUTE_IDLE_MINUTES", 15.0, minimum=0.01)
# How long a server may take to accept connections before its start counts as failed.
COMPUTE_START_TIMEOUT_SECONDS = env_float("COMPUTE_START_TIMEOUT_SECONDS", 30.0, minimum=1.0)
# A crashed server is restarted after 1, 2, 4 ... seconds, at most this long apart.
COMPUTE_RESTART_BACKOFF_MAX_SECONDS = env_float("COMPUTE_RESTART_BACKOFF_MAX_SECONDS", 60.0, minimum=1.0)
# Host uids of compute servers (root only): one per deployment, modulo the count; apart from builds'.
COMPUTE_UID_BASE = env_int("COMPUTE_UID_BASE", 260000, minimum=1000)
COMPUTE_UID_COUNT = env_int("COMPUTE_UID_COUNT", 4000, minimum=1)
if COMPUTE_UID_BASE < BUILD_UID_BASE + BUILD_UID_COUNT and BUILD_UID_BASE < COMPUTE_UID_BASE + COMPUTE_UID_COUNT:
    raise ImproperlyConfigured("COMPUTE_UID_BASE..+COMPUTE_UID_COUNT must not overlap BUILD_UID_BASE..+BUILD_UID_COUNT.")
# Limits of one server: processes, memory (private writable memory per process, not the
# address space V8 reserves), CPU seconds per process (0: none, a server runs for days), file size.
COMPUTE_MAX_PROCESSES = env_int("COMPUTE_MAX_PROCESSES", 256, minimum=16)
COMPUTE_MEMORY_LIMIT_MB = env_int("COMPUTE_MEMORY_LIMIT_MB", 8192, minimum=256)
COMPUTE_CPU_LIMIT_SECONDS = env_int("COMPUTE_CPU_LIMIT_SECONDS", 0, minimum=0)
COMPUTE_DISK_LIMIT_MB = env_int("COMPUTE_DISK_LIMIT_MB", 1024, minimum=16)
# Output lines of a branch's servers kept for its page (older ones are trimmed).
COMPUTE_LOG_LINES = env_int("COMPUTE_LOG_LINES", 2000, minimum=100)
# --- The edge (`manage.py edge`, apps/edge): the front door that passes server-rendered
# requests straight to their server and hands everything else to gunicorn on this socket.
EDGE_CONSOLE_SOCKET = Path(env_str("EDGE_CONSOLE_SOCKET") or VAR_DIR / "run" / "web.sock")
# How long the edge keeps what it read of a site (its branch, password, rules, routes): a
# saved change reaches it within this time.
EDGE_PLAN_SECONDS = env_float("EDGE_PLAN_SECONDS", 1.0, minimum=0.0)
WEBHOOK_RATE_LIMIT_PER_MINUTE = env_int("WEBHOOK_RATE_LIMIT_PER_MINUTE", 120, minimum=1)

# --- Build notifications (apps/notifications): mail goes through Django's default mailer,
# configured from EMAIL_* variables. `make run` (CONSOLE_DEV) writes each mail as a file
# under var/mail/ unless EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "amplify-console@localhost")
if DEV_MODE and env_str("EMAIL_HOST") is None:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(BASE_DIR / "var" / "mail")},
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25, minimum=1, maximum=65535),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=300),
            },
        }
    }
# Where the console is reached: the job links in notifications.
CONSOLE_URL = env_url(
    "CONSOLE_URL", f"http://localhost:{env_int('PORT', 8000, minimum=1, maximum=65535)}", schemes=("http", "https")
)
# Webhook deliveries: tries (the first included), seconds before the first retry (doubling), timeout of one.
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 4, minimum=1, maximum=10)
NOTIFICATIONS_RETRY_SECONDS = env_float("NOTIFICATIONS_RETRY_SECONDS", 30.0, minimum=0.0)
NOTIFICATIONS_TIMEOUT_SECONDS = env_float("NOTIFICATIONS_TIMEOUT_SECONDS", 10.0, minimum=0.5)
# Off: webhooks to private, loopback, link-local or metadata addresses are refused. On only for tests
# or a console whose receivers are on its own private network, on purpose.
NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = env_bool("NOTIFICATIONS_ALLOW_PRIVATE_TARGETS", False)
# Deploy status on pull requests (apps.prstatus): tries of one report (the first included),
# seconds before the first retry (doubling), timeout of one call to GitHub or GitLab.
PR_STATUS_MAX_ATTEMPTS = env_int("PR_STATUS_MAX_ATTEMPTS", 4, minimum=1, maximum=10)
PR_STATUS_RETRY_SECONDS = env_float("PR_STATUS_RETRY_SECONDS", 30.0, minimum=0.0)
PR_STATUS_TIMEOUT_SECONDS = env_float("PR_STATUS_TIMEOUT_SECONDS", 10.0, minimum=0.5)
# Off: the API of a git host on a private, loopback or link-local address (and plain http://)
# is refused. On for a GitHub Enterprise or self-managed GitLab on the console's own network.
PR_STATUS_ALLOW_PRIVATE_HOSTS = env_bool("PR_STATUS_ALLOW_PRIVATE_HOSTS", False)
# Calls to git hosts older than this many days are deleted (the record would grow for ever).
PR_STATUS_CALL_DAYS = env_int("PR_STATUS_CALL_DAYS", 30, minimum=1)

# --- Git integration.
GIT_POLL_INTERVAL_SECONDS = env_float("GIT_POLL_INTERVAL_SECONDS", 60.0, minimum=5.0)
# Repositories listed at once by a poll cycle (git hosts answer slowly, in parallel).
GIT_POLL_CONCURRENCY = env_int("GIT_POLL_CONCURRENCY", 8, minimum=1, maximum=64)
TEARDOWN_JOB_WAIT_SECONDS = env_int("TEARDOWN_JOB_WAIT_SECONDS", 60, minimum=1)
TEARDOWN_STACK_WAIT_SECONDS = env_int("TEARDOWN_STACK_WAIT_SECONDS", 1800, minimum=1)

# --- Sandbox inventory.
SANDBOX_REFRESH_INTERVAL_SECONDS = env_float("SANDBOX_REFRESH_INTERVAL_SECONDS", 300.0, minimum=10.0)
SANDBOX_DELETE_WAIT_SECONDS = env_int("SANDBOX_DELETE_WAIT_SECONDS", 3600, minimum=1)
SANDBOX_DELETE_POLL_SECONDS = env_float("SANDBOX_DELETE_POLL_SECONDS", 5.0, minimum=0.05)
# A deletion whose worker has said nothing for this long is handed to another worker.
SANDBOX_DELETE_STALL_SECONDS = env_int("SANDBOX_DELETE_STALL_SECONDS", 600, minimum=30)

# --- File browser (S3 storage of a branch).
# The largest file an upload may send; files over one part go to S3 in parts.
STORAGE_MAX_UPLOAD_BYTES = env_int("STORAGE_MAX_UPLOAD_BYTES", 5 * 1024**3, minimum=1)
# Size of one upload part the browser sends (S3 wants at least 5 MiB but for the last).
STORAGE_UPLOAD_PART_BYTES = env_int("STORAGE_UPLOAD_PART_BYTES", 8 * 1024**2, minimum=5 * 1024**2, maximum=512 * 1024**2)
# How long a presigned download link stays valid.
STORAGE_PRESIGN_SECONDS = env_int("STORAGE_PRESIGN_SECONDS", 300, minimum=10, maximum=7 * 24 * 3600)
# Deletes, copies and moves of more objects than this run in a worker, with progress.
STORAGE_INLINE_OBJECTS = env_int("STORAGE_INLINE_OBJECTS", 1000, minimum=1)
# Parallel S3 copy requests of one copy or move.
STORAGE_COPY_THREADS = env_int("STORAGE_COPY_THREADS", 8, minimum=1, maximum=64)

# --- Data manager: an exact count (operators only) scans the table in the request when
# DynamoDB's estimate of its items is at most this; bigger tables are counted by a worker.
DATA_EXACT_COUNT_MAX_ITEMS = env_int("DATA_EXACT_COUNT_MAX_ITEMS", 50_000, minimum=0)

# CSV imports uploaded but never started, and multipart uploads the console started
# but never finished, are removed after this.
STALE_UPLOAD_HOURS = env_int("STALE_UPLOAD_HOURS", 24, minimum=1)

# --- Long tasks (imports, seeds, storage deletes/copies/moves, teardowns): a worker
# stamps a running task every interval; one silent for the timeout has died and is
# failed (with a Retry) by the reaper, which runs every reaper interval.
TASK_HEARTBEAT_INTERVAL_SECONDS = env_float("TASK_HEARTBEAT_INTERVAL_SECONDS", 10.0, minimum=0.1)
TASK_HEARTBEAT_TIMEOUT_SECONDS = env_int("TASK_HEARTBEAT_TIMEOUT_SECONDS", 60, minimum=1)
TASK_REAPER_INTERVAL_SECONDS = env_float("TASK_REAPER_INTERVAL_SECONDS", 30.0, minimum=1.0)
if TASK_HEARTBEAT_TIMEOUT_SECONDS < 2 * TASK_HEARTBEAT_INTERVAL_SECONDS:
    raise ImproperlyConfigured("TASK_HEARTBEAT_TIMEOUT_SECONDS must be at least twice TASK_HEARTBEAT_INTERVAL_SECONDS.")

CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "console.tasks.worker_heartbeat", "schedule": 30.0},
    "abort-stale-uploads": {"task": "apps.storage.tasks.abort_stale_uploads", "schedule": 3600.0},
    "remove-stale-drafts": {"task": "apps.datamanager.tasks.remove_stale_drafts", "schedule": 3600.0},
    "probe-build-isolation": {"task": "apps.builds.tasks.probe_build_isolation", "schedule": 60.0},
    "reap-stale-jobs": {"task": "apps.builds.tasks.reap_stale_jobs", "schedule": BUILD_REAPER_INTERVAL_SECONDS},
    "reap-data-tasks": {"task": "apps.datamanager.tasks.reap_stalled_tasks", "schedule": TASK_REAPER_INTERVAL_SECONDS},
    "reap-storage-tasks": {"task": "apps.storage.tasks.reap_stalled_tasks", "schedule": TASK_REAPER_INTERVAL_SECONDS},
    "reap-teardowns": {"task": "apps.gitops.tasks.reap_stalled_teardowns", "schedule": TASK_REAPER_INTERVAL_SECONDS},
    "poll-repositories": {"task": "apps.gitops.tasks.poll_repositories", "schedule": GIT_POLL_INTERVAL_SECONDS},
    "sweep-preview-stacks": {"task": "apps.gitops.tasks.sweep_preview_stacks", "schedule": 15 * 60.0},
    "refresh-sandboxes": {"task": "apps.sandboxes.tasks.refresh_sandboxes", "schedule": SANDBOX_REFRESH_INTERVAL_SECONDS},
    # Does nothing unless an admin turned the retention policy on.
    "sandbox-retention": {"task": "apps.sandboxes.tasks.apply_retention", "schedule": 3600.0},
    # Old deployments, then the objects nothing references (safe while builds run: see store.py).
    "collect-hosting": {"task": "apps.hosting.tasks.collect_garbage", "schedule": 3600.0},
    "trim-access-logs": {"task": "apps.hosting.tasks.trim_access_logs", "schedule": 3600.0},
    "collect-compute-bundles": {"task": "apps.compute.tasks.collect_bundles", "schedule": 3600.0},
    # Custom domains waiting for their DNS records (and, daily, the verified ones) are looked up again.
    "check-custom-domains": {"task": "apps.hosting.tasks.check_domains", "schedule": 15 * 60.0},
    # Notification deliveries whose message was lost (a broker restart) are queued again.
    "requeue-deliveries": {"task": "apps.notifications.tasks.requeue_overdue_deliveries", "schedule": 300.0},
    "requeue-pr-reports": {"task": "apps.prstatus.tasks.requeue_overdue_reports", "schedule": 300.0},
    "prune-pr-calls": {"task": "apps.prstatus.tasks.prune_calls", "schedule": 3600.0},
}


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins (console/signin.py): this many for one username or one client address
# within the window lock both out for the lockout time, even with the right password.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 10, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 60, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 300, minimum=1)

# The client's address (audit trail, sign-in limits) is REMOTE_ADDR unless a reverse
# proxy is trusted to set this header (e.g. X-Forwarded-For); with N proxies in a row,
# the N-th entry from the right is the client (console/client_address.py).
TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER", "") or ""
if TRUSTED_PROXY_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", TRUSTED_PROXY_HEADER):
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_HEADER must be a header name such as X-Forwarded-For; got {TRUSTED_PROXY_HEADER!r}."
    )
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=1, maximum=10)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEV_MODE and not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOG_LEVEL = (env_str("LOG_LEVEL") or "INFO").upper()
# At DEBUG, botocore logs whole request bodies: secret values, temporary passwords. Its
# loggers (and the HTTP library's) stop at INFO whatever LOG_LEVEL says.
_AWS_LOG_LEVEL = "INFO" if LOG_LEVEL == "DEBUG" else LOG_LEVEL
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {name: {"level": _AWS_LOG_LEVEL} for name in ("botocore", "boto3", "s3transfer", "urllib3")},
}
