# One image for web, worker, beat and hostd; the command picks the role.
FROM python:3.12-slim
# bubblewrap and iptables isolate builds (README, "Security model"); python3-boto3 and
# Node.js serve builds' own tools, which see only /usr, never the console's Python.
# hostd runs server-rendered apps with the same Node.js, in the same sandbox: Debian's
# (18.19 in bookworm, 20 in trixie) is new enough for Next.js 15 (18.18 or newer).
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client bubblewrap iptables \
      python3 python3-boto3 nodejs npm ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only-not-used-at-runtime-xxxxxxxxxxxx python manage.py collectstatic --noinput
RUN useradd --create-home console && mkdir -p /app/var && chown console /app/var
# COMPUTE_DIR in docker-compose: a volume of web and hostd; servers' users pass through it,
# and its group (console) may use hostd's control socket: web runs as console, hostd as root.
RUN mkdir -p -m 0755 /var/lib/console/compute && chgrp console /var/lib/console/compute
USER console
EXPOSE 8000
CMD ["gunicorn", "console.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "8", "--access-logfile", "-", "--logger-class", "console.access_log.RedactingLogger"]
