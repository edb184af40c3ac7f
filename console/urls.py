from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import views
from console.signin import SignInView

urlpatterns = [
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_log, name="audit_log"),
    path("", include("apps.amplify_api.urls")),
    path("", include("apps.insights.urls")),
    path("", include("apps.sandboxes.urls")),
    path("", include("apps.datamanager.urls")),
    path("", include("apps.storage.urls")),
    path("", include("apps.users.urls")),
    path("", include("apps.functions.urls")),
    path("", include("apps.secrets.urls")),
    path("", include("apps.branches.urls")),
    path("", include("apps.builds.urls")),
    path("", include("apps.gitops.urls")),
    path("", include("apps.hosting.urls")),
    path("", include("apps.compute.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.prstatus.urls")),
]

handler500 = "console.errors.server_error"
