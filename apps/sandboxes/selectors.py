"""Reading the inventory from the database: filters, sorting, counts, attribution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from apps.branches.models import App
from apps.sandboxes.models import InventorySettings, Sandbox
from console import amplify_names as names
from console.amplify_names import sanitize

# The shortest a namespace can be cut to in a stack name (beside a 50-character identifier).
_SHORTEST_CUT = (
    names.MAX_STACK_NAME_LENGTH
    - len(names.PREFIX)
    - len("sandbox")
    - names.MAX_NAME_LENGTH
    - names.NUM_DASHES
    - names.HASH_LENGTH
    - 1
)

SORTS = {
    "updated": "last_updated",
    "-updated": "-last_updated",
    "created": "created_time",
    "-created": "-created_time",
    "owner": "identifier",
    "-owner": "-identifier",
    "project": "namespace",
    "-project": "-namespace",
    "region": "region",
    "-region": "-region",
    "status": "status",
    "-status": "-status",
    "resources": "resource_count",
    "-resources": "-resource_count",
    "secrets": "secret_count",
    "-secrets": "-secret_count",
}
DEFAULT_SORT = "updated"  # oldest first: the stale ones are what a team lead looks for
PAGE_SIZES = (25, 50, 100)


@dataclass
class InventoryFilters:
    q: str = ""
    status: str = ""
    owner: str = ""
    region: str = ""
    project: str = ""
    app: str = ""
    stale: bool = False
    deleted: bool = False
    sort: str = DEFAULT_SORT
    per_page: int = PAGE_SIZES[0]

    @classmethod
    def from_query(cls, query: QueryDict) -> InventoryFilters:
        def text(key: str) -> str:
            return query.get(key, "").strip()[:200]

        sort = text("sort")
        try:
            per_page = int(text("per_page") or PAGE_SIZES[0])
        except ValueError:
            per_page = PAGE_SIZES[0]
        status = text("status")
        return cls(
            q=text("q"),
            status=status if status in Sandbox.Status.values else "",
            owner=text("owner"),
            region=text("region"),
            project=text("project"),
            app=text("app"),
            stale=query.get("stale") in ("1", "on", "true"),
            deleted=query.get("deleted") in ("1", "on", "true") or status == Sandbox.Status.DELETED,
            sort=sort if sort in SORTS else DEFAULT_SORT,
            per_page=per_page if per_page in PAGE_SIZES else PAGE_SIZES[0],
        )

    def query_string(self, **changes: object) -> str:
        """The filters as a query string (for sort links, pages and the CSV link)."""
        values = {
            "q": self.q,
            "status": self.status,
            "owner": self.owner,
            "region": self.region,
            "project": self.project,
            "app": self.app,
            "stale": "1" if self.stale else "",
            "deleted": "1" if self.deleted else "",
            "sort": self.sort,
            "per_page": str(self.per_page) if self.per_page != PAGE_SIZES[0] else "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if value:
                query[key] = value
        return query.urlencode()


def app_namespace_filter(app: App) -> Q:
    """Sandboxes of the app: their namespace is its sanitized package name (cut when
    the stack name would pass 128 characters)."""
    namespace = sanitize(app.package_name)
    if not namespace:
        return Q(pk__in=[])
    if len(namespace) <= _SHORTEST_CUT:
        return Q(namespace=namespace)
    return Q(namespace=namespace) | Q(namespace__startswith=namespace[:_SHORTEST_CUT])


def apps_by_namespace() -> dict[str, App]:
    """{sanitized package name: app}, for showing which app a sandbox belongs to."""
    return {sanitize(app.package_name): app for app in App.objects.exclude(package_name="").order_by("-pk")}


def app_of(sandbox: Sandbox, apps: dict[str, App]) -> App | None:
    if sandbox.namespace in apps:
        return apps[sandbox.namespace]
    for namespace, app in apps.items():
        if len(sandbox.namespace) >= _SHORTEST_CUT and namespace.startswith(sandbox.namespace):
            return app
    return None


def filtered_sandboxes(filters: InventoryFilters, policy: InventorySettings, now: datetime | None = None) -> QuerySet[Sandbox]:
    rows = Sandbox.objects.select_related("deletion")
    if not filters.deleted:
        rows = rows.exclude(status=Sandbox.Status.DELETED)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.owner:
        rows = rows.filter(identifier=filters.owner)
    if filters.region:
        rows = rows.filter(region=filters.region)
    if filters.project:
        rows = rows.filter(namespace=filters.project)
    if filters.app:
        app = App.objects.filter(app_id=filters.app).first()
        rows = rows.filter(app_namespace_filter(app)) if app else rows.none()
    if filters.stale:
        rows = rows.exclude(status=Sandbox.Status.DELETED).filter(stale_filter(policy, now or timezone.now()))
    if filters.q:
        rows = rows.filter(
            Q(stack_name__icontains=filters.q) | Q(identifier__icontains=filters.q) | Q(namespace__icontains=filters.q)
        )
    field = SORTS[filters.sort]
    return rows.order_by(field, "stack_name") if not field.startswith("-") else rows.order_by(field, "-stack_name")


@dataclass
class Summary:
    total: int
    stale: int
    by_status: list[tuple[str, str, int]]  # (value, label, count)
    by_owner: list[tuple[str, int]]


def inventory_summary(policy: InventorySettings, now: datetime | None = None) -> Summary:
    """Counts over live sandboxes (not deleted), in three queries."""
    live = Sandbox.objects.exclude(status=Sandbox.Status.DELETED)
    statuses = dict(live.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    owners = list(live.values("identifier").annotate(n=Count("pk")).order_by("-n", "identifier").values_list("identifier", "n"))
    stale = live.filter(stale_filter(policy, now or timezone.now())).count()
    by_status = [(value, label, statuses.get(value, 0)) for value, label in Sandbox.Status.choices if value != "DELETED"]
    return Summary(total=sum(statuses.values()), stale=stale, by_status=by_status, by_owner=owners)


def filter_choices() -> dict[str, list[str]]:
    """Values for the filter menus (owners, regions, projects seen)."""

    def distinct(field: str) -> list[str]:
        return list(Sandbox.objects.order_by(field).values_list(field, flat=True).distinct())

    return {"owners": distinct("identifier"), "regions": distinct("region"), "projects": distinct("namespace")}


# The inventory's age buckets, in the order charts stack them (Sandbox.age_bucket in Python).
AGE_BUCKETS = (("fresh", "Fresh"), ("idle", "Idle"), ("stale", "Stale"))


def every_sandbox() -> QuerySet[Sandbox]:
    """Every row, deleted ones too (the inventory's history), unordered for aggregates."""
    return Sandbox.objects.order_by()


def live_sandboxes() -> QuerySet[Sandbox]:
    return Sandbox.objects.exclude(status=Sandbox.Status.DELETED).order_by()


def stale_filter(policy: InventorySettings, now: datetime) -> Q:
    """Stale at `now`: no update for stale_after_days or more (Sandbox.is_stale, in SQL)."""
    return Q(last_updated__lte=policy.stale_before(now))


def age_bucket_filters(policy: InventorySettings, now: datetime) -> dict[str, Q]:
    """bucket -> the condition a live sandbox meets at `now` to be in it (Sandbox.age_bucket)."""
    return {
        "fresh": Q(last_updated__gt=policy.fresh_after(now)),
        "idle": Q(last_updated__gt=policy.stale_before(now), last_updated__lte=policy.fresh_after(now)),
        "stale": stale_filter(policy, now),
        "unknown": Q(last_updated__isnull=True),
    }


def existed_filter(moment: datetime) -> Q:
    """The sandbox was in the inventory at `moment`: first seen by then, not deleted by then
    (a row gone without a deletion time counts as gone all along)."""
    alive = Q(deleted_at__isnull=True) & ~Q(status=Sandbox.Status.DELETED)
    return Q(first_seen__lte=moment) & (alive | Q(deleted_at__gt=moment))
