# Node.js for builds (README, "Node.js versions"): the official builds, which need only glibc
# and libstdc++. Node.js 20 is the system's (on PATH: builds' default, and hostd's servers);
# each other major lives under BUILD_NODE_DIR as <major>/bin/node with its own npm and npx.
# tests/test_worker_image.py checks this layout against what the console reads.
FROM node:20-bookworm-slim AS node20
FROM node:22-bookworm-slim AS node22

# One image for web, worker, beat and hostd; the command picks the role.
FROM python:3.12-slim
# bubblewrap and iptables isolate builds (README, "Security model"); python3-boto3 and
# Node.js serve builds' own tools, which see only /usr (and BUILD_NODE_DIR), never the
# console's Python.
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client bubblewrap iptables \
      python3 python3-boto3 libstdc++6 ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=node20 /usr/local/bin/node /usr/local/bin/node
COPY --from=node20 /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
COPY --from=node22 /usr/local/bin/node /opt/amplify-node/22/bin/node
COPY --from=node22 /usr/local/lib/node_modules/npm /opt/amplify-node/22/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && ln -s ../lib/node_modules/npm/bin/npm-cli.js /opt/amplify-node/22/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /opt/amplify-node/22/bin/npx \
    && node --version && npm --version \
    && PATH=/opt/amplify-node/22/bin:$PATH sh -c 'node --version && npm --version'
ENV BUILD_NODE_DIR=/opt/amplify-node
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only-not-used-at-runtime-xxxxxxxxxxxx python manage.py collectstatic --noinput
RUN useradd --create-home console && mkdir -p /app/var && chown console /app/var
# COMPUTE_DIR in docker-compose: a volume of web and hostd; servers' users pass through it,
# and its group (console) may use hostd's control socket: web runs as console, hostd as root.
RUN mkdir -p -m 0755 /var/lib/console/compute && chgrp console /var/lib/console/compute
# EDGE_CONSOLE_SOCKET in docker-compose: gunicorn's socket, for the edge (same user) alone.
RUN mkdir -p -m 0700 /var/lib/console/run && chown console /var/lib/console/run
USER console
EXPOSE 8000
CMD ["gunicorn", "console.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "8", "--access-logfile", "-", "--logger-class", "console.access_log.RedactingLogger"]
