from __future__ import annotations

from django.urls import path

from apps.users import group_views, user_views, views

# Users and groups are named in the query string or the form (?username=, ?group=):
# Cognito allows "/" and other URL characters in both.
BRANCH = "apps/<str:app_id>/branches/<str:branch>/users/"
GROUPS = BRANCH + "groups/"

urlpatterns = [
    path(BRANCH, views.users_list, name="users_list"),
    path(BRANCH + "new/", views.users_create, name="users_create"),
    path(BRANCH + "user/", user_views.users_detail, name="users_detail"),
    path(BRANCH + "user/attributes/", user_views.users_attributes, name="users_attributes"),
    path(BRANCH + "user/password/", user_views.users_password, name="users_password"),
    path(BRANCH + "user/disable/", user_views.users_disable, name="users_disable"),
    path(BRANCH + "user/enable/", user_views.users_enable, name="users_enable"),
    path(BRANCH + "user/delete/", user_views.users_delete, name="users_delete"),
    path(GROUPS, group_views.users_groups, name="users_groups"),
    path(GROUPS + "new/", group_views.users_group_create, name="users_group_create"),
    path(GROUPS + "group/", group_views.users_group_detail, name="users_group_detail"),
    path(GROUPS + "group/add/", group_views.users_group_add, name="users_group_add"),
    path(GROUPS + "group/remove/", group_views.users_group_remove, name="users_group_remove"),
    path(GROUPS + "group/delete/", group_views.users_group_delete, name="users_group_delete"),
]
