"""Server-rendered apps (WEB_COMPUTE): an SSR request through the console, cold starts, idle stops.

Setup: `examples/nextjs-app` (Next.js 15.5, `output: 'standalone'`) built once into
var/bench/nextjs-app/ (a copy without node_modules and .next; `npm ci` and `next build`,
unsandboxed); built again only when its package-lock.json or a file under app/ changed
(var/bench/nextjs-app.sha256 holds what was built). Then, in a temporary directory every user
can pass through (a server runs as a user of its own and reads its folder under COMPUTE_DIR):
a fresh SQLite database, a moto server (console.emulator), an app on WEB_COMPUTE with a local
bare repository, and its main branch's live deployment made by `publish_compute` from
`adapt_nextjs` for a pending MANUAL job (the bundle stored, the server warmed through hostd, then
the switch), under a `manage.py hostd` child process with the default idle time (the warm start
unpacks the bundle, which can take longer than the 3 s idle time below, and hostd counts idle
time from the ask: the server would be stopped in the middle of the deploy's GET / check). Then
`manage.py hostd` again with COMPUTE_IDLE_MINUTES=0.05 (idle stop after 3 s, swept every
0.75 s; the unpacked bundle kept), a gunicorn (console.wsgi, one worker with 8 threads, as
deployed) and the edge in front of it (`manage.py edge`, as `make run` and compose serve the
console), all with this run's environment, serving the branch URL
(`Host: main.<appId>.localhost:8000`).

1. `ssr`: GET / (rendered on every request: `dynamic = 'force-dynamic'`), body read whole.
   Work: through the edge (the site's plan, then straight to the server) on one kept-alive
   connection. Baseline, interleaved: straight to the very `node server.js` hostd runs (its port
   from the ComputeServer row), same Host header, one kept-alive connection. References, in the
   same rounds: the same GET through gunicorn alone (hosting, the manifest's routes,
   apps.compute.proxy); a bare WSGI proxy (bare_proxy.py) under the same gunicorn settings; and
   /logo.svg (a Static route: no server) answered 304 through the edge by gunicorn. The edge's
   own CPU time over the rounds (from /proc) is printed per request.
   Requests keep the server from its idle stop (no pause longer than a request); checked after:
   the same start. The first GET wakes the server the deploy's hostd left stopped.
2. `cold`: the server stopped for idleness (its ComputeServer row STOPPED), what is left of it
   (processes of its user, `runtime.server_uid`, that name this run's server.js on their command
   line, and their children; when hostd is not root, without the user): live processes and their
   summed VmRSS, and zombies of that user (exited, not reaped yet: no memory) and how long they
   stay; then the first GET / through the edge, on a new connection, which has hostd start node
   (cold start). 5 times; with the running server's VmRSS (summed over its processes) before each
   stop for scale, and hostd's own "ready after" time (from its log lines in the database).

Prints p50 and p95, the p50 ratio and overhead, the cold start median and max, and a summary of
the goals: SSR p50 <= 1.2x straight to node; cold start median < 3 s; an idle stopped app holds
0 bytes. hostd (and its servers), gunicorn, the edge, moto and the directory are stopped and removed at the
end, also after a failure.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_hosting import Fetcher, Summary, Web, edge, gunicorn, interleave, p50_p95, percentile, proc_status_kib
from emulator_support import ROOT, django_on_emulator, make_repository, ms, timed

EXAMPLE = ROOT / "examples" / "nextjs-app"
BUILT = ROOT / "var" / "bench" / "nextjs-app"
BUILT_HASH = BUILT.with_name("nextjs-app.sha256")
IDLE_MINUTES = "0.05"  # 3 s
DEFAULT_IDLE_MINUTES = "15"  # settings.py's
SSR_ROUNDS = 300
COLD_STARTS = 5
SSR_GOAL = 1.2
COLD_GOAL = 3.0  # s
STOP_TIMEOUT = 30.0  # s to wait for an idle stop
PAGE_MARK = b"Rendered on the server at"
STATIC_PATH = "logo.svg"  # public/: a Static route, served from the store without the server
KIB = 1024


# --- the example app, built once


def source_digest() -> str:
    """What a build depends on here: package-lock.json and every file under app/."""
    digest = hashlib.sha256()
    files = [EXAMPLE / "package-lock.json", *sorted(p for p in (EXAMPLE / "app").rglob("*") if p.is_file())]
    for path in files:
        digest.update(path.relative_to(EXAMPLE).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_example() -> Path:
    """var/bench/nextjs-app with its standalone build, made again only when its sources changed."""
    digest = source_digest()
    built = BUILT_HASH.read_text().strip() if BUILT_HASH.exists() else ""
    if built == digest and (BUILT / ".next" / "standalone" / "server.js").is_file():
        print(f"build: reused {BUILT.relative_to(ROOT)} (package-lock.json and app/ unchanged, {digest[:12]})")
        return BUILT
    BUILT_HASH.unlink(missing_ok=True)
    shutil.rmtree(BUILT, ignore_errors=True)
    BUILT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLE, BUILT, ignore=shutil.ignore_patterns("node_modules", ".next"))
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1"}
    started = time.perf_counter()
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
        result = subprocess.run(command, cwd=BUILT, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    BUILT_HASH.write_text(digest + "\n")
    print(f"build: npm ci + next build of {EXAMPLE.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s ({digest[:12]})")
    return BUILT


# --- the server's processes


@dataclass(frozen=True)
class ServerProcesses:
    """How to find one deployment's server processes in /proc."""

    uid: int | None  # its own host user (hostd runs as root), else None
    entrypoint: str  # the unpacked bundle's server.js, named on bwrap's and node's command lines

    def pids(self) -> list[int]:
        """The processes whose command line names this run's server.js (bwrap's and node's) and their
        descendants, of the server's user if it has one; and that user's zombies (a zombie's command
        line is empty: its uid is all that is left, shared with other runs' deployments of that number)."""
        table: dict[int, tuple[dict[str, str], bytes]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    table[int(entry.name)] = (_status(int(entry.name)), (entry / "cmdline").read_bytes())
        ours = {pid for pid, (_, command) in table.items() if self.entrypoint.encode() in command.split(b"\0")}
        grown = True
        while grown:
            children = {pid for pid, (fields, _) in table.items() if int(fields.get("PPid") or 0) in ours} - ours
            ours |= children
            grown = bool(children)
        if self.uid is None:
            return sorted(ours)

        def of_user(fields: dict[str, str]) -> bool:
            return str(self.uid) in fields.get("Uid", "").split()

        zombies = {pid for pid, (fields, _) in table.items() if fields.get("State", "").startswith("Z") and of_user(fields)}
        return sorted({pid for pid in ours if of_user(table[pid][0])} | zombies)

    def count(self) -> Found:
        """Live processes, zombies and the summed VmRSS (a zombie, or a process gone meanwhile, counts 0 KiB)."""
        live = zombies = total = 0
        for pid in self.pids():
            fields = _status(pid)
            if fields.get("State", "").startswith("Z"):
                zombies += 1
            elif fields:
                live += 1
                with contextlib.suppress(OSError, LookupError):
                    total += proc_status_kib(pid, "VmRSS")
        return Found(live, zombies, total)

    def describe(self) -> str:
        shown = []
        for pid in self.pids():
            fields = _status(pid)
            if fields:
                parent = _status(int(fields.get("PPid", "0") or 0)).get("Name", "?")
                shown.append(f"{pid} {fields.get('Name')} [{fields.get('State')}] child of {fields.get('PPid')} ({parent})")
        return "; ".join(shown) or "none"


@dataclass(frozen=True)
class Found:
    live: int
    zombies: int  # exited, not reaped yet by their parent: no memory, only a process table entry
    kib: int  # summed VmRSS of the live ones


def _status(pid: int) -> dict[str, str]:
    """/proc/<pid>/status as fields (empty when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {name: value.strip() for name, _, value in (line.partition(":") for line in text.splitlines())}


# --- hostd


@contextlib.contextmanager
def hostd(tmp: Path, name: str, env: dict[str, str], processes: Callable[[], ServerProcesses | None]) -> Iterator[Path]:
    """`manage.py hostd` with this run's environment and `env`; SIGTERM at exit (it stops its
    servers). Yields its log file."""
    from apps.compute import client
    from apps.compute.hostd import socket_path

    log = tmp / f"hostd-{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "hostd"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    failed = False
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"hostd exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            if socket_path().exists():
                with contextlib.suppress(client.HostdUnavailable):
                    if client.ask({"op": "ping"}, 5).get("ok"):
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(f"hostd did not answer within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield log
    except BaseException:
        failed = True
        raise
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            print("hostd did not stop within 30 s of SIGTERM: killed")
            process.kill()
            process.wait()
        if failed:
            print(f"hostd's log (last lines):\n{log.read_text(errors='replace')[-3000:]}")
        found = processes()
        if found is not None:
            gone = wait_until_gone(found, 5.0)
            if gone is None:  # only processes of this run's server
                print(f"5 s after hostd stopped, server processes left: {found.describe()}; SIGKILL sent")
                for pid in found.pids():
                    if not _status(pid).get("State", "Z").startswith("Z"):
                        with contextlib.suppress(OSError):
                            os.kill(pid, 9)
            else:
                print(f"hostd stopped; no server process left ({gone:.2f} s after)")


# --- the site


@dataclass
class Bench:
    web: Web
    edge_port: int
    edge_pid: int
    host: str
    deployment: Any  # the live hosting Deployment
    processes: ServerProcesses
    summary: Summary


def server_row(deployment: Any) -> Any:
    from apps.compute.models import ComputeServer

    row = ComputeServer.objects.filter(deployment__deployment=deployment).first()
    assert row is not None, "hostd reported no server for the deployment"
    return row


def run(tmp: Path, summary: Summary, project: Path) -> None:
    from django.conf import settings
    from django.core.management import call_command

    from apps.branches.models import App
    from apps.branches.services import app_create
    from apps.builds.jobs import job_start
    from apps.builds.models import Job
    from apps.compute.nextjs import adapt_nextjs
    from apps.compute.publishing import publish_compute
    from apps.compute.runtime import run_layout, server_uid

    compute_dir = Path(settings.COMPUTE_DIR)
    compute_dir.mkdir(parents=True, exist_ok=True)
    # mkdtemp made tmp 0700: a server's own user must pass through every folder above its own.
    assert compute_dir.is_relative_to(tmp), compute_dir
    for folder in [compute_dir, *compute_dir.parents]:
        os.chmod(folder, 0o755)  # noqa: S103
        if folder == tmp:
            break
    call_command("migrate", verbosity=0)
    env = {"COMPUTE_DIR": str(compute_dir), "COMPUTE_IDLE_MINUTES": IDLE_MINUTES}
    found: list[ServerProcesses] = []
    app = app_create(
        actor=None,
        name="bench-compute",
        repository=str(make_repository(tmp)),
        production_branch="main",
        platform=App.Platform.WEB_COMPUTE,
    )
    branch = app.branches.get(name="main")
    job = job_start(branch=branch, job_type=Job.Type.MANUAL, triggered_by="bench")
    output = adapt_nextjs(project)
    # The warm start unpacks the bundle first (2-4 s here) and hostd counts the idle time from the
    # ask, not from when the server is ready: under a 3 s idle stop the server could be stopped
    # in the middle of publish's GET / check. So the deploy runs under a hostd with the default
    # idle time, and the benchmark under another (the unpacked bundle is kept for it).
    publishing_env = {**env, "COMPUTE_IDLE_MINUTES": DEFAULT_IDLE_MINUTES}
    with hostd(tmp, "publish", publishing_env, lambda: found[0] if found else None):
        started = time.perf_counter()
        deployment = publish_compute(branch, job.pk, output, custom_headers="", say=print).deployment
        print(
            f"published in {time.perf_counter() - started:.1f} s: deployment {deployment.pk}, "
            f"{len(output.static_files)} static files"
        )
        entrypoint = run_layout(deployment.pk).src / output.compute.entrypoint if output.compute else Path("server.js")
        found.append(ServerProcesses(server_uid(deployment.pk), str(entrypoint)))
    who = f"uid {found[0].uid}" if found[0].uid is not None else f"command lines naming {entrypoint}"
    print(f"server processes: {who}")
    with contextlib.ExitStack() as stack:
        stack.enter_context(hostd(tmp, "bench", env, lambda: found[0]))
        web = stack.enter_context(gunicorn(tmp, "compute", env))
        edge_port, edge_pid = stack.enter_context(edge(tmp, web.port, env))
        host = f"{branch.hostname_label}.{app.default_domain}"
        print(f"branch URL host {host}; the edge on port {edge_port} in front of gunicorn on port {web.port}")
        bench = Bench(web, edge_port, edge_pid, host, deployment, found[0], summary)
        bench_ssr(bench)
        bench_cold(bench)


# --- 1. SSR through the console vs straight to node


def bench_ssr(bench: Bench) -> None:
    with contextlib.ExitStack() as stack:
        measure_ssr(bench, stack)


def measure_ssr(bench: Bench, stack: contextlib.ExitStack) -> None:
    # The reference: the least a Python proxy under the same gunicorn costs (benchmarks/bare_proxy.py),
    # started first: the server may stop for idleness meanwhile; it learns node's port once it runs.
    port_file = bench.web.log.parent / "bare-proxy.port"
    app = "benchmarks.bare_proxy:application"
    bare_web = stack.enter_context(
        gunicorn(bench.web.log.parent, "bare-proxy", {"BARE_PROXY_PORT_FILE": str(port_file)}, app=app, ready_path="/ready")
    )
    console, floor = Fetcher(bench.edge_port, bench.host), Fetcher(bench.edge_port, bench.host)
    # The warm start of publish_compute may have gone idle while gunicorn started: a GET wakes it.
    print(f"\nbefore the rounds the server was {server_row(bench.deployment).state}")
    console.get("")
    row = server_row(bench.deployment)
    assert row.state == row.State.RUNNING, row.state
    assert row.port, row
    node = Fetcher(row.port, bench.host)
    wsgi = Fetcher(bench.web.port, bench.host)
    etag = floor.response(STATIC_PATH).getheader("ETag") or ""
    floor.connection.close()  # that body was not read
    port_file.write_text(str(row.port))
    bare = Fetcher(bare_web.port, bench.host)
    sizes: dict[str, list[int]] = {"console": [], "node": [], "bare": [], "gunicorn": []}

    def get(label: str, fetcher: Fetcher) -> Callable[[], None]:
        def go() -> None:
            body = fetcher.get("")
            assert PAGE_MARK in body, body[:300]
            sizes[label].append(len(body))

        return go

    work = {
        "console": get("console", console),
        "node": get("node", node),
        "gunicorn": get("gunicorn", wsgi),
        "bare": get("bare", bare),
        "304": lambda: floor.get(STATIC_PATH, 304, {"If-None-Match": etag}),
    }
    edge_cpu = cpu_seconds(bench.edge_pid)
    samples = interleave(work, SSR_ROUNDS)
    edge_cpu = cpu_seconds(bench.edge_pid) - edge_cpu
    after = server_row(bench.deployment)
    same = (after.state, after.started_at, after.restarts) == (row.state, row.started_at, row.restarts)
    p50 = {label: statistics.median(values) for label, values in samples.items()}
    p95 = {label: percentile(values, 0.95) for label, values in samples.items()}
    ratio, overhead = p50["console"] / p50["node"], p50["console"] - p50["node"]
    paired = statistics.median(c - n for c, n in zip(samples["console"], samples["node"], strict=True))
    print(f"\n1. SSR GET / ({statistics.median(sizes['node']) / KIB:.1f} KiB), {SSR_ROUNDS} rounds interleaved after warm-up")
    print(f"baseline: straight to node server.js (port {row.port}):         {p50_p95(samples['node'])}")
    print(f"work: through the console's front door (the edge):       {p50_p95(samples['console'])}")
    print(f"reference: gunicorn alone (hosting, routes, proxy.py):   {p50_p95(samples['gunicorn'])}")
    print(f"reference: a bare WSGI proxy, same gunicorn settings:    {p50_p95(samples['bare'])}")
    print(f"floor: /{STATIC_PATH} answered 304 via the edge by gunicorn: {p50_p95(samples['304'])}")
    verdict = "met" if ratio <= SSR_GOAL else "NOT met"
    print(f"p50 ratio: {ratio:.2f}x (p95 {p95['console'] / p95['node']:.2f}x); goal <= {SSR_GOAL}: {verdict}")
    print(
        f"overhead: p50 difference {ms(overhead).strip()}, median of the per-round differences {ms(paired).strip()}; "
        f"the console's floor (304) {ms(p50['304']).strip()}"
    )
    gunicorn_ratio, bare_ratio = p50["gunicorn"] / p50["node"], p50["bare"] / p50["node"]
    print(
        f"gunicorn alone: {gunicorn_ratio:.2f}x node (+{ms(p50['gunicorn'] - p50['node']).strip()}); "
        f"a bare WSGI proxy: {bare_ratio:.2f}x (+{ms(p50['bare'] - p50['node']).strip()})"
    )
    # The 304s pass through the edge too (to gunicorn): its CPU time is shared by both kinds of request.
    passed = len(samples["console"]) + len(samples["304"])
    print(f"the edge's own CPU time: {edge_cpu / passed * 1e6:.0f} us a request ({passed} SSR and 304 requests)")
    print(
        f"connections opened: console {console.connects} for {console.requests} requests, "
        f"node {node.connects} for {node.requests}; server {'kept running (same start)' if same else 'RESTARTED meanwhile'}"
    )
    for fetcher in (console, node, wsgi, bare, floor):
        fetcher.close()
    bench.summary.add(
        f"SSR GET / p50 through the console <= {SSR_GOAL}x straight to node",
        f"{ratio:.2f}x (p50 {ms(p50['console']).strip()} vs {ms(p50['node']).strip()}, +{ms(overhead).strip()}; "
        f"304 floor {ms(p50['304']).strip()}; gunicorn alone {gunicorn_ratio:.2f}x, a bare WSGI proxy {bare_ratio:.2f}x)",
        ratio <= SSR_GOAL and same,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- 2. idle stops and cold starts


def wait_for_stop(bench: Bench) -> tuple[float, Any]:
    """Seconds until the row says STOPPED, and the row."""
    from apps.compute.models import ComputeServer

    started = time.monotonic()
    row = server_row(bench.deployment)
    while time.monotonic() - started < STOP_TIMEOUT:
        row = server_row(bench.deployment)
        if row.state == ComputeServer.State.STOPPED:
            return time.monotonic() - started, row
        time.sleep(0.05)
    raise RuntimeError(f"the server was not stopped within {STOP_TIMEOUT:.0f} s of its last request ({row.state})")


def wait_until_gone(processes: ServerProcesses, limit: float) -> float | None:
    """Seconds until no process of the server is left (zombies included), None if some still are after `limit`."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if not processes.pids():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def ready_line(bench: Bench, after_pk: int) -> tuple[int, float | None]:
    """hostd's "Ready on port ... after N ms" about the start after line `after_pk` (written every 0.5 s)."""
    from apps.compute.models import ComputeLogLine

    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        line = (
            ComputeLogLine.objects.filter(pk__gt=after_pk, stream="hostd", text__startswith="Ready on port")
            .order_by("pk")
            .first()
        )
        if line is not None:
            return line.pk, float(line.text.rsplit("after ", 1)[1].split()[0]) / 1000
        time.sleep(0.1)
    return after_pk, None


def bench_cold(bench: Bench) -> None:
    from apps.compute.models import ComputeLogLine

    processes = bench.processes
    running = [processes.count()]  # after the SSR part
    stops: list[float] = []
    left: list[Found] = []
    lingered: list[float | None] = []
    starts: list[float] = []
    readies: list[float] = []
    last_line = ComputeLogLine.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    print(f"\n2. idle stop (COMPUTE_IDLE_MINUTES={IDLE_MINUTES}) and cold start, {COLD_STARTS} times")
    for number in range(1, COLD_STARTS + 1):
        waited, row = wait_for_stop(bench)
        stops.append(waited)
        found = processes.count()
        left.append(found)
        if found.live or found.zombies:
            print(f"  left at the stop: {processes.describe()}")
            # Still inside the idle window: the server has had no request since it stopped.
            lingered.append(wait_until_gone(processes, 3.0))
        fetcher = Fetcher(bench.edge_port, bench.host)  # a new visitor, through the front door
        elapsed, body = timed(functools.partial(fetcher.get, ""))
        fetcher.close()
        assert PAGE_MARK in body, body[:300]
        starts.append(elapsed)
        after = server_row(bench.deployment)
        assert after.state == after.State.RUNNING, after.state
        assert after.started_at != row.started_at, "the GET found the server running: no cold start"
        last_line, ready = ready_line(bench, last_line)
        if ready is not None:
            readies.append(ready)
        running.append(processes.count())
        shown_ready = f"{ready * 1000:.0f} ms" if ready is not None else "?"
        print(
            f"  {number}: stopped {waited:.2f} s after the last request ({row.stop_reason!r}); left: {found.live} live "
            f"processes ({found.kib} KiB), {found.zombies} zombies; cold GET / {ms(elapsed).strip()} (hostd: node "
            f"listening after {shown_ready}); then running: {running[-1].live} processes, {running[-1].kib / KIB:.1f} MiB"
        )
    median, worst = statistics.median(starts), max(starts)
    memory = max(found.kib for found in left)
    live, zombies = max(found.live for found in left), max(found.zombies for found in left)
    print(f"cold start GET / through the edge: median {ms(median).strip()}, max {ms(worst).strip()}; goal median < 3 s")
    if readies:
        print(
            f"of which hostd's start until node listens: median {ms(statistics.median(readies)).strip()}; "
            f"the rest (ask, first render, proxy): median {ms(median - statistics.median(readies)).strip()}"
        )
    gone = [f"{seconds:.2f} s" if seconds is not None else "> 3 s" for seconds in lingered]
    print(
        f"idle stopped app: at most {live} live processes, {memory * KIB} bytes VmRSS; goal 0 bytes; "
        f"zombies at the stop: at most {zombies}" + (f" (reaped after {', '.join(gone)})" if gone else "")
    )
    print(
        f"running server for scale: after the SSR rounds {running[0].live} processes, {running[0].kib / KIB:.1f} MiB "
        f"VmRSS; after a cold start median {statistics.median(found.kib for found in running[1:]) / KIB:.1f} MiB"
    )
    bench.summary.add(
        f"cold start (first GET / after an idle stop) median < {COLD_GOAL:.0f} s",
        f"median {ms(median).strip()}, max {ms(worst).strip()} ({COLD_STARTS} starts)",
        median < COLD_GOAL,
    )
    bench.summary.add(
        "idle stopped app memory == 0",
        f"{memory * KIB} bytes, {live} live processes, {zombies} zombies ({COLD_STARTS} stops); "
        f"running: {running[0].kib / KIB:.1f} MiB",
        memory == 0 and live == 0,
    )


def main() -> None:
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # job_start's queueing on the filesystem broker
    project = build_example()
    summary = Summary()
    with django_on_emulator("bench-compute-") as run_on:
        run(run_on.tmp, summary, project)
    summary.show()


if __name__ == "__main__":
    main()
