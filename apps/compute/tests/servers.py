"""What the compute tests share: small Node.js servers, bundles of them, deployments that run them."""

from __future__ import annotations

import shutil
from pathlib import Path

from apps.branches.models import Branch
from apps.compute.hosting_output import HostingOutput
from apps.compute.manifest import ComputeResource, DeployManifest
from apps.compute.publishing import publish_compute
from apps.hosting.models import Deployment
from apps.hosting.tests.sites import new_job

NODE = shutil.which("node")

# Answers /crash by exiting, /stream with three chunks 300 ms apart, /env with its
# environment, anything else with a counter, the branch and a version.
SERVER_JS = """
const http = require('http');
let served = 0;
http.createServer((req, res) => {
  if (req.url === '/crash') { console.error('crashing on purpose'); process.exit(3); }
  if (req.url === '/stream') {
    res.writeHead(200, {'content-type': 'text/plain'});
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`chunk ${++sent}\\n`);
      if (sent === 3) { clearInterval(timer); res.end(); }
    }, 300);
    return;
  }
  if (req.url === '/env') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(process.env)); return; }
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (part) => { body += part; });
    req.on('end', () => res.end(`posted ${body}`));
    return;
  }
  served += 1;
  res.setHeader('content-type', 'text/plain');
  res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
  res.end(`VERSION ${served} ${process.env.AWS_BRANCH} ${req.headers['x-forwarded-host']}\\n`);
}).listen(+process.env.PORT, process.env.HOSTNAME, () => console.log(`listening on ${process.env.PORT}`));
"""

ROUTES = [
    {"path": "/static/*", "target": {"kind": "Static"}},
    {"path": "/*.*", "target": {"kind": "Static"}, "fallback": {"kind": "Compute", "src": "default"}},
    {"path": "/*", "target": {"kind": "Compute", "src": "default"}},
]


def server_folder(root: Path, version: str = "one", source: str = SERVER_JS) -> Path:
    """A compute resource's folder: server.js answering with `version` in its text."""
    folder = root / f"compute-{version}"
    folder.mkdir(parents=True)
    (folder / "server.js").write_text(source.replace("VERSION", version))
    return folder


def static_folder(root: Path, files: dict[str, str]) -> Path:
    folder = root / "static"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def hosting_output(compute_dir: Path, static_files: list | None = None, routes: list | None = None) -> HostingOutput:
    manifest = DeployManifest.from_json(
        {
            "version": 1,
            "routes": routes or ROUTES,
            "computeResources": [{"name": "default", "runtime": "nodejs20.x", "entrypoint": "server.js"}],
            "framework": {"name": "test", "version": "1"},
        }
    )
    compute = ComputeResource(name="default", runtime="nodejs20.x", entrypoint="server.js")
    return HostingOutput(manifest=manifest, static_files=static_files or [], compute_dir=compute_dir, compute=compute)


def deploy(branch: Branch, compute_dir: Path, *, static_files: list | None = None, lines: list[str] | None = None) -> Deployment:
    """Publish a compute deployment as a build does (bundle stored, server warmed if hostd runs, then live)."""
    said = lines if lines is not None else []
    published = publish_compute(
        branch, new_job(branch), hosting_output(compute_dir, static_files), custom_headers="", say=said.append
    )
    return published.deployment
