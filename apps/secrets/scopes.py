"""Where a secret lives: shared by an app's branches, one branch's, or a sandbox's."""

from __future__ import annotations

from dataclasses import dataclass

from apps.secrets import paths


@dataclass(frozen=True)
class Scope:
    kind: str  # "shared", "branch" or "sandbox"
    namespace: str  # app id, or the sandbox's package name
    name: str = ""  # branch name, or the sandbox identifier

    @classmethod
    def shared(cls, app_id: str) -> Scope:
        return cls("shared", app_id)

    @classmethod
    def branch(cls, app_id: str, branch: str) -> Scope:
        return cls("branch", app_id, branch)

    @classmethod
    def sandbox(cls, package_name: str, identifier: str) -> Scope:
        return cls("sandbox", package_name, identifier)

    @property
    def prefix(self) -> str:
        if self.kind == "shared":
            return paths.shared_prefix(self.namespace)
        if self.kind == "branch":
            return paths.branch_prefix(self.namespace, self.name)
        return paths.sandbox_prefix(self.namespace, self.name)

    def path(self, secret_name: str) -> str:
        return self.prefix + paths.validate_name(secret_name)

    @property
    def label(self) -> str:
        if self.kind == "shared":
            return "all branches"
        return f"branch {self.name}" if self.kind == "branch" else f"sandbox {self.namespace}/{self.name}"
