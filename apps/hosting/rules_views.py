"""The app's Rewrites and redirects page: the ordered rules, their JSON, and a tester.

Anyone with a role sees the page and uses the tester; changing the rules needs the admin
role. Every change carries the version of the rules the page showed, so an edit made on a
stale page (a rule number that now names another rule) is refused, not applied."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.branches import selectors
from apps.branches.models import App
from apps.hosting.rules import STATUS_LABELS, Rule, RulesInvalid
from apps.hosting.rules_forms import DeleteForm, MoveForm, RuleForm, RulesJsonForm, TesterForm
from apps.hosting.site_rules import (
    RULES_CHANGED,
    RulesChanged,
    StoredRules,
    branches_with_deployment,
    set_custom_rules,
    stored_rules,
    try_rules,
)
from console.forms_util import refused_again
from console.roles import Role, role_required

TEMPLATE = "hosting/rules.html"


def _tester(request: HttpRequest, app: App, stored: StoredRules) -> dict[str, Any]:
    branches = branches_with_deployment(app)
    default = next((b for b in branches if b.name == app.production_branch), branches[0] if branches else None)
    bound = "url" in request.GET
    form = TesterForm(request.GET if bound else None, branches=branches, initial={"branch": default and default.display_name})
    trial, branch = None, None
    if bound and form.is_valid() and not stored.problems:
        branch = form.branches.get(form.cleaned_data["branch"])
        trial = try_rules(stored.rules, form.cleaned_data["url"], branch.live_deployment if branch else None)
    return {"tester": form, "trial": trial, "trial_branch": branch, "deployed_branches": branches}


def _render(
    request: HttpRequest,
    app: App,
    *,
    rule_form: RuleForm | None = None,
    json_form: RulesJsonForm | None = None,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    stored = stored_rules(app)
    if rule_form is None:
        rule_form = _rule_form_for(stored, request.GET.get("edit"))
    context = {
        "app": app,
        "stored": stored,
        "rows": [{"number": n, "rule": rule, "label": STATUS_LABELS[rule.status]} for n, rule in enumerate(stored.rules, 1)],
        "rule_form": rule_form,
        "editing": rule_form["number"].value(),
        "json_form": json_form or RulesJsonForm(initial={"rules_json": stored.text, "version": stored.version}),
        "conflict": conflict,
        **_tester(request, app, stored),
    }
    return render(request, TEMPLATE, context, status=status)


def _rule_form_for(stored: StoredRules, editing: str | None) -> RuleForm:
    """A blank form to add a rule, or (?edit=N) one holding rule N."""
    initial: dict[str, Any] = {"version": stored.version, "status": "301"}
    number = int(editing) if editing and editing.isdigit() else 0
    if 1 <= number <= len(stored.rules):
        rule = stored.rules[number - 1]
        country = (rule.condition or "").strip("<>")
        initial.update(number=number, source=rule.source, target=rule.target, status=rule.status, country=country)
    return RuleForm(initial=initial)


@require_GET
def hosting_rules(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    if request.htmx:  # type: ignore[attr-defined]
        # The tester's answer alone: the form stays as typed.
        stored = stored_rules(app)
        context = {"app": app, "stored": stored, "fragment": True, **_tester(request, app, stored)}
        return render(request, f"{TEMPLATE}#tester-result", context)
    return _render(request, app)


def _save(
    request: HttpRequest,
    app: App,
    rules: list[Rule],
    *,
    version: str,
    summary: str,
    rule_form: RuleForm | None = None,
    json_form: RulesJsonForm | None = None,
) -> HttpResponse:
    try:
        set_custom_rules(actor=request.user, app=app, rules=rules, expected_version=version, summary=summary)
    except RulesChanged as changed:
        # Keep what was typed, against the version now on record: saving again replaces knowingly.
        now = stored_rules(app).version
        if rule_form is not None:
            rule_form = refused_again(RuleForm, request.POST, changed, version=now)
        if json_form is not None:
            json_form = refused_again(RulesJsonForm, request.POST, changed, version=now)
        return _render(request, app, rule_form=rule_form, json_form=json_form, conflict=RULES_CHANGED, status=409)
    except RulesInvalid as invalid:
        messages.error(request, " ".join(invalid.errors))
        return _render(request, app, status=400)
    messages.success(request, f"Rules saved: {summary}.")
    return redirect("hosting_rules", app_id=app.app_id)


def _stale(request: HttpRequest, app: App, stored: StoredRules, version: str) -> HttpResponse | None:
    """A refusal when the page was made from other rules than those stored, or they do not parse."""
    if stored.problems:
        return _render(request, app, conflict="The stored rules are not valid: mend them in the JSON editor first.", status=409)
    if version != stored.version:
        return _render(request, app, conflict=RULES_CHANGED, status=409)
    return None


@require_POST
@role_required(Role.ADMIN)
def hosting_rule_save(request: HttpRequest, app_id: str) -> HttpResponse:
    """Add a rule (last) or change rule `number`."""
    app = selectors.app_get(app_id)
    form = RuleForm(request.POST)
    if not form.is_valid():
        return _render(request, app, rule_form=form, status=400)
    stored = stored_rules(app)
    refusal = _stale(request, app, stored, form.cleaned_data["version"])
    number, rule = form.cleaned_data["number"], form.cleaned_data["rule"]
    if refusal is None and number is not None and number > len(stored.rules):
        refusal = _render(request, app, conflict=RULES_CHANGED, status=409)
    if refusal is not None:
        return refusal
    rules = list(stored.rules)
    if number is None:
        rules.append(rule)
        summary = f"added rule {len(rules)}, {rule.source} → {rule.target} ({rule.status})"
    else:
        rules[number - 1] = rule
        summary = f"changed rule {number} to {rule.source} → {rule.target} ({rule.status})"
    return _save(request, app, rules, version=stored.version, summary=summary, rule_form=form)


@require_POST
@role_required(Role.ADMIN)
def hosting_rule_move(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _render(request, app, conflict="That move was not understood.", status=400)
    stored = stored_rules(app)
    if refusal := _stale(request, app, stored, form.cleaned_data["version"]):
        return refusal
    number, up = form.cleaned_data["number"], form.cleaned_data["direction"] == "up"
    other = number - 1 if up else number + 1
    if not (1 <= number <= len(stored.rules) and 1 <= other <= len(stored.rules)):
        return _render(request, app, conflict=f"Rule {number} cannot move {form.cleaned_data['direction']}.", status=400)
    rules = list(stored.rules)
    rules[number - 1], rules[other - 1] = rules[other - 1], rules[number - 1]
    return _save(request, app, rules, version=stored.version, summary=f"moved rule {number} to {other}")


@require_POST
@role_required(Role.ADMIN)
def hosting_rule_delete(request: HttpRequest, app_id: str) -> HttpResponse:
    app = selectors.app_get(app_id)
    form = DeleteForm(request.POST)
    if not form.is_valid():
        return _render(request, app, conflict="That deletion was not understood.", status=400)
    stored = stored_rules(app)
    if refusal := _stale(request, app, stored, form.cleaned_data["version"]):
        return refusal
    number = form.cleaned_data["number"]
    if number > len(stored.rules):
        return _render(request, app, conflict=RULES_CHANGED, status=409)
    rules = list(stored.rules)
    gone = rules.pop(number - 1)
    return _save(request, app, rules, version=stored.version, summary=f"deleted rule {number}, {gone.source} → {gone.target}")


@require_POST
@role_required(Role.ADMIN)
def hosting_rules_json(request: HttpRequest, app_id: str) -> HttpResponse:
    """Replace all rules with a pasted Amplify export (validated whole: a bad one writes nothing)."""
    app = selectors.app_get(app_id)
    form = RulesJsonForm(request.POST)
    if not form.is_valid():
        return _render(request, app, json_form=form, status=400)
    rules = form.cleaned_data["rules_json"]
    # No _stale() here: the JSON replaces everything, and may mend stored rules that do not parse.
    return _save(
        request, app, rules, version=form.cleaned_data["version"], summary=f"saved {len(rules)} rules from JSON", json_form=form
    )
