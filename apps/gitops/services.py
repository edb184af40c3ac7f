"""What other apps may ask of git operations: act on a pull request opening or closing
and on pushes and deletions of branches, as a git host's webhook would."""

from __future__ import annotations

from apps.gitops.gitsync import branch_deleted as branch_deleted
from apps.gitops.gitsync import branch_pushed as branch_pushed
from apps.gitops.gitsync import preview_close as preview_close
from apps.gitops.gitsync import preview_open as preview_open
