from __future__ import annotations

from django.urls import path

from apps.hosting import access_views, domain_views, monitoring_views, rules_views, views

urlpatterns = [
    path("sites/<str:app_id>/<str:branch>/", views.hosted_site, name="hosted_site"),
    path("sites/<str:app_id>/<str:branch>/<path:path>", views.hosted_site, name="hosted_site_path"),
    path("apps/<str:app_id>/hosting/monitoring/", monitoring_views.monitoring_page, name="hosting_monitoring"),
    path("apps/<str:app_id>/hosting/access-logs/", monitoring_views.access_logs, name="hosting_access_logs"),
    path("apps/<str:app_id>/hosting/headers/", access_views.hosting_headers, name="hosting_headers"),
    path("apps/<str:app_id>/hosting/access/", access_views.hosting_access, name="hosting_access"),
    path("apps/<str:app_id>/hosting/domains/", domain_views.hosting_domains, name="hosting_domains"),
    path("apps/<str:app_id>/hosting/domains/<str:domain_name>/", domain_views.hosting_domain_edit, name="hosting_domain_edit"),
    path(
        "apps/<str:app_id>/hosting/domains/<str:domain_name>/delete/",
        domain_views.hosting_domain_delete,
        name="hosting_domain_delete",
    ),
    path(
        "apps/<str:app_id>/hosting/domains/<str:domain_name>/check/",
        domain_views.hosting_domain_check,
        name="hosting_domain_check",
    ),
    path("hosting/tls-ask", domain_views.hosting_tls_ask, name="hosting_tls_ask"),
    path("apps/<str:app_id>/hosting/rules/", rules_views.hosting_rules, name="hosting_rules"),
    path("apps/<str:app_id>/hosting/rules/save/", rules_views.hosting_rule_save, name="hosting_rule_save"),
    path("apps/<str:app_id>/hosting/rules/move/", rules_views.hosting_rule_move, name="hosting_rule_move"),
    path("apps/<str:app_id>/hosting/rules/delete/", rules_views.hosting_rule_delete, name="hosting_rule_delete"),
    path("apps/<str:app_id>/hosting/rules/json/", rules_views.hosting_rules_json, name="hosting_rules_json"),
]
