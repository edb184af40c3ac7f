"""Listing a repository's branches (connect page, later the branch poller).

Work: `apps.branches.git.list_remote_branches` (validation, git, parsing, sorting).
Baseline: a bare `git ls-remote --heads` subprocess whose output is not parsed.
Prints the median of each, their ratio and the peak Python memory of the work.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings_test")

import django

django.setup()

from apps.branches.git import list_remote_branches  # noqa: E402

BRANCHES = 5000
ROUNDS = 15


def make_repository(root: Path) -> Path:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    bare = root / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = root / "work"
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True)
    (work / "f").write_text("x")
    subprocess.run(["git", "add", "f"], cwd=work, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=work, check=True, env=env)
    refs = "".join(f"create refs/heads/feature/b{i:05d} HEAD\n" for i in range(BRANCHES))
    subprocess.run(["git", "update-ref", "--stdin"], cwd=work, input=refs, text=True, check=True)
    subprocess.run(["git", "push", "-q", "origin", "--all"], cwd=work, check=True, capture_output=True)
    return bare


def timed(fn: object) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repository(Path(tmp))
        baseline = timed(lambda: subprocess.run(["git", "ls-remote", "--heads", str(repo)], capture_output=True, check=True))
        work = timed(lambda: list_remote_branches(str(repo)))
        tracemalloc.start()
        branches = list_remote_branches(str(repo))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert len(branches) == BRANCHES + 1
    base_median, work_median = statistics.median(baseline), statistics.median(work)
    print(f"branches: {BRANCHES + 1}, rounds: {ROUNDS}")
    print(f"baseline git ls-remote: median {base_median * 1000:.1f} ms")
    print(f"list_remote_branches:   median {work_median * 1000:.1f} ms")
    print(f"ratio work/baseline:    {work_median / base_median:.2f}")
    print(f"peak Python memory of one listing: {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
