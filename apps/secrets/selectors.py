"""Reading secrets for the page: names, versions and who changed them, never values."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.branches.models import App
from apps.secrets import ssm
from apps.secrets.scopes import Scope as Scope


@dataclass
class SecretRow:
    name: str
    shared: ssm.ParameterInfo | None = None
    branches: dict[str, ssm.ParameterInfo] = field(default_factory=dict)

    def cells(self, branch_names: list[str]) -> list[tuple[str, ssm.ParameterInfo | None]]:
        """(effective source, own parameter) per branch, in column order, for the template."""
        return [(self.effective(b), self.branches.get(b)) for b in branch_names]

    def effective(self, branch: str) -> str:
        """Which value a build of `branch` gets: its own, the shared one, or none."""
        if branch in self.branches:
            return "branch"
        return "shared" if self.shared else "missing"


@dataclass
class SecretMatrix:
    branch_names: list[str]
    rows: list[SecretRow]

    def table(self) -> list[tuple[SecretRow, list[tuple[str, ssm.ParameterInfo | None]]]]:
        """Rows with their cells computed once: a matrix can hold thousands of cells."""
        return [(row, row.cells(self.branch_names)) for row in self.rows]

    @property
    def incomplete(self) -> list[str]:
        """Names that some branches get and others lack."""
        return [row.name for row in self.rows if len({row.effective(b) == "missing" for b in self.branch_names}) > 1]


def secret_matrix(app: App) -> SecretMatrix:
    """Two listings in all: the shared prefix, and every branch prefix at once (they all
    sit under /amplify/<appId>/), mapped back to the connected branches."""
    branch_names = list(app.branches.order_by("name").values_list("name", flat=True))
    branch_of_prefix = {Scope.branch(app.app_id, branch).prefix: branch for branch in branch_names}
    rows: dict[str, SecretRow] = {}
    for info in ssm.list_parameters(Scope.shared(app.app_id).prefix):
        rows.setdefault(info.name, SecretRow(info.name)).shared = info
    for info in ssm.list_parameters(f"/amplify/{app.app_id}", recursive=True):
        branch = branch_of_prefix.get(info.path.rsplit("/", 1)[0] + "/")
        if branch is not None:  # a disconnected branch's secrets are not this page's business
            rows.setdefault(info.name, SecretRow(info.name)).branches[branch] = info
    return SecretMatrix(branch_names=branch_names, rows=[rows[name] for name in sorted(rows)])


def sandbox_secret_names(package_name: str, identifier: str) -> list[str]:
    """Names (read-only) of a sandbox's secrets, for the sandbox inventory."""
    return sorted(info.name for info in ssm.list_parameters(Scope.sandbox(package_name, identifier).prefix))


def build_secrets(app_id: str, branch: str) -> dict[str, str]:
    """{name: value} a build of the branch gets: shared values, branch values winning."""
    return {**ssm.values_under(Scope.shared(app_id).prefix), **ssm.values_under(Scope.branch(app_id, branch).prefix)}


def sandbox_secret_counts(region: str) -> dict[str, int]:
    """{secret prefix: number of secrets} for every sandbox in the region, from one
    recursive walk of /amplify (sandbox secrets sit at /amplify/<pkg>/<id>-sandbox-<hash>/)."""
    counts: dict[str, int] = {}
    for info in ssm.list_parameters("/amplify", recursive=True, region=region):
        prefix = info.path.rsplit("/", 1)[0] + "/"
        if "-sandbox-" in prefix:
            counts[prefix] = counts.get(prefix, 0) + 1
    return counts


def sandbox_secret_names_at(region: str, prefix: str) -> list[str]:
    """The names of the secrets under a sandbox's prefix, in its region."""
    return sorted(info.name for info in ssm.list_parameters(prefix, region=region))
