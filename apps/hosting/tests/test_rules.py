"""The rules engine against Amplify's documented examples
(https://docs.aws.amazon.com/amplify/latest/userguide/redirect-rewrite-examples.html and
https://docs.aws.amazon.com/amplify/latest/userguide/redirects.html), then validation and export."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.hosting import rules as engine
from apps.hosting.rules import Outcome, Rule, RulesInvalid, evaluate, first_match, parse_rules, rules_json

# The documented SPA rule, exactly as the JSON example has it (a JSON string, hence the doubled backslash).
SPA_JSON = (
    '{"source": "</^[^.]+$|\\\\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json|webp)$)([^.]+$)/>", '
    '"status": "200", "target": "/index.html", "condition": null}'
)
SPA = json.loads(SPA_JSON)

# What the deployment holds: the paths `exists` answers True for (a folder by its index.html).
FILES = {"/index.html", "/app.css", "/logo.png", "/404.html", "/about/index.html", "/documents/a/b/c.html"}


def exists(path: str) -> bool:
    return path in FILES or (path.endswith("/") and f"{path}index.html" in FILES)


def r(source: str, target: str, status: str = "301", condition: str | None = None) -> dict[str, Any]:
    return {"source": source, "target": target, "status": status, "condition": condition}


def redirect(status: int, location: str) -> Outcome:
    return Outcome(status, location, True)


def rewrite(location: str, status: int = 200) -> Outcome:
    return Outcome(status, location, False)


SPECIFIC = r("/docs/specific-filename.html", "/documents/different-filename.html")
FOLDER = r("/docs/<*>", "/documents/<*>")
DATES = r("/docs/<year>/<month>/<date>/<itemid>", "/documents/<year>/<month>/<date>/<itemid>")
BY_ID = r("/docs?id=<my-blog-id-value>", "/documents/<my-blog-id-value>")
LEVEL_404 = r("/documents/<x>/<y>/<z>", "/documents/index.html", "404")
REGION = r("/documents", "/documents/us/", "302", "<US>")

CASES = [
    # Simple redirects and rewrites
    ("page-301", [r("/original.html", "/destination.html")], "/original.html", redirect(301, "/destination.html")),
    ("page-301-other-page", [r("/original.html", "/destination.html")], "/other.html", None),
    ("page-302", [r("/original.html", "/destination.html", "302")], "/original.html", redirect(302, "/destination.html")),
    ("folder-wildcard", [FOLDER], "/docs/a/b.html", redirect(301, "/documents/a/b.html")),
    ("folder-wildcard-forwards-query", [FOLDER], "/docs/x?page=2&q=a+b", redirect(301, "/documents/x?page=2&q=a+b")),
    ("folder-wildcard-empty", [FOLDER], "/docs/", redirect(301, "/documents/")),
    ("folder-wildcard-folder-without-slash", [FOLDER], "/docs", redirect(301, "/documents/")),
    ("folder-wildcard-sibling-folder", [FOLDER], "/docsx/a.html", None),
    ("folder-wildcard-encodes-location", [FOLDER], "/docs/a b/ü.html", redirect(301, "/documents/a%20b/%C3%BC.html")),
    ("all-to-index-rewrite", [r("/<*>", "/index.html", "200")], "/anything/deep", rewrite("/index.html")),
    # "redirect all traffic": a 200 rule applies to files that exist too (why the SPA regex exists).
    ("all-to-index-rewrites-existing-file", [r("/<*>", "/index.html", "200")], "/app.css", rewrite("/index.html")),
    ("all-to-index-root", [r("/<*>", "/index.html", "200")], "/", rewrite("/index.html")),
    ("custom-404-missing", [r("/<*>", "/404.html", "404")], "/nope", rewrite("/404.html", 404)),
    ("custom-404-file-exists", [r("/<*>", "/404.html", "404")], "/app.css", None),
    ("not-found-rewrite-missing", [r("/<*>", "/index.html", "404-200")], "/dashboard/2", rewrite("/index.html")),
    ("not-found-rewrite-file-exists", [r("/<*>", "/index.html", "404-200")], "/logo.png", None),
    ("not-found-rewrite-folder-exists", [r("/<*>", "/index.html", "404-200")], "/about/", None),
    # Redirects for single page web apps (SPA)
    ("spa-page", [SPA], "/about", rewrite("/index.html")),
    ("spa-nested-route", [SPA], "/app/settings", rewrite("/index.html")),
    ("spa-root", [SPA], "/", rewrite("/index.html")),
    ("spa-png-untouched", [SPA], "/logo.png", None),
    ("spa-css-untouched", [SPA], "/app.css", None),
    ("spa-js-untouched", [SPA], "/static/js/main.js", None),
    ("spa-woff2-untouched", [SPA], "/fonts/inter.woff2", None),
    ("spa-json-untouched", [SPA], "/manifest.json", None),
    ("spa-webp-untouched", [SPA], "/img/hero.webp", None),
    ("spa-other-extension-rewritten", [SPA], "/report.pdf", rewrite("/index.html")),
    ("spa-dot-in-folder", [SPA], "/v1.2/page", rewrite("/index.html")),
    ("spa-query-not-matched", [SPA], "/logo.png?v=3", None),
    ("spa-route-with-query", [SPA], "/about?tab=2", rewrite("/index.html")),
    # Placeholders
    ("placeholders", [DATES], "/docs/2024/05/17/hello", redirect(301, "/documents/2024/05/17/hello")),
    ("placeholders-too-few-segments", [DATES], "/docs/2024/05/17", None),
    ("placeholders-one-segment-each", [DATES], "/docs/2024/05/17/a/b", None),
    ("placeholders-trailing-slash", [DATES], "/docs/2024/05/17/hello/", redirect(301, "/documents/2024/05/17/hello")),
    ("placeholder-rewrite", [r("/u/<name>", "/users/<name>.html", "200")], "/u/ada", rewrite("/users/ada.html")),
    # Query strings and path parameters
    ("query-placeholder", [BY_ID], "/docs?id=42", redirect(301, "/documents/42")),
    ("query-placeholder-not-forwarded", [BY_ID], "/docs?utm=x&id=42", redirect(301, "/documents/42")),
    ("query-placeholder-absent", [BY_ID], "/docs?page=1", None),
    ("query-placeholder-no-query", [BY_ID], "/docs", None),
    ("query-placeholder-encoded", [BY_ID], "/docs?id=a%20b", redirect(301, "/documents/a%20b")),
    ("query-literal-value", [r("/shop?brand=acme", "/acme", "302")], "/shop?brand=acme", redirect(302, "/acme")),
    ("query-literal-other-value", [r("/shop?brand=acme", "/acme", "302")], "/shop?brand=other", None),
    ("target-query-not-forwarded", [r("/old", "/new?from=old")], "/old?x=1", redirect(301, "/new?from=old")),
    ("no-query-nothing-forwarded", [r("/old", "/new")], "/old", redirect(301, "/new")),
    ("absolute-302-forwards-query", [r("/blog/<*>", "https://blog.example.com/<*>", "302")], "/blog/post?ref=tw",
     redirect(302, "https://blog.example.com/post?ref=tw")),
    ("absolute-301", [r("/shop", "https://shop.example.com")], "/shop", redirect(301, "https://shop.example.com")),
    ("level-404-missing", [LEVEL_404], "/documents/x/y/z", rewrite("/documents/index.html", 404)),
    ("level-404-file-exists", [LEVEL_404], "/documents/a/b/c.html", None),
    ("level-404-other-level", [LEVEL_404], "/documents/x/y", None),
    # Order of redirects
    ("order-specific-first", [SPECIFIC, FOLDER], "/docs/specific-filename.html",
     redirect(301, "/documents/different-filename.html")),
    ("order-specific-first-others", [SPECIFIC, FOLDER], "/docs/other.html", redirect(301, "/documents/other.html")),
    ("order-specific-last-never-fires", [FOLDER, SPECIFIC], "/docs/specific-filename.html",
     redirect(301, "/documents/specific-filename.html")),
    ("order-404-rule-for-existing-file-falls-through", [r("/<*>", "/index.html", "404-200"), r("/app.css", "/v2/app.css")],
     "/app.css", redirect(301, "/v2/app.css")),
    ("order-no-match", [SPECIFIC, FOLDER, BY_ID], "/elsewhere", None),
    ("no-rules", [], "/anything", None),
    # Trailing slashes
    ("slash-request-slashless-source", [r("/about", "/about-us")], "/about/", redirect(301, "/about-us")),
    ("slashless-request-slash-source", [r("/about/", "/about-us")], "/about", redirect(301, "/about-us")),
    ("strip-slash-rule", [r("/<*>/", "/<*>")], "/privacy/", redirect(301, "/privacy")),
    ("strip-slash-rule-never-loops", [r("/<*>/", "/<*>")], "/privacy", None),
    ("root-rule", [r("/", "/home")], "/", redirect(301, "/home")),
    ("root-rule-only-root", [r("/", "/home")], "/x", None),
    ("encoded-source", [r("/my%20page", "/page")], "/my page", redirect(301, "/page")),
    # Region-based redirects: no request has a country here
    ("region-never-applies", [REGION], "/documents", None),
    ("region-skipped-next-applies", [REGION, r("/documents", "/documents/intl/", "302")], "/documents",
     redirect(302, "/documents/intl/")),
]  # fmt: skip


@pytest.mark.parametrize(("rules", "url", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_amplify_documented_behaviour(rules: list[dict[str, Any]], url: str, expected: Outcome | None) -> None:
    path, _, query = url.partition("?")
    assert evaluate(parse_rules(rules), path, query, exists) == expected


def test_the_table_covers_at_least_45_documented_cases() -> None:
    assert len(CASES) >= 45
    assert len({c[0] for c in CASES}) == len(CASES)


def test_exists_is_asked_once_and_only_for_not_found_rules() -> None:
    asked: list[str] = []

    def counting(path: str) -> bool:
        asked.append(path)
        return False

    two_404s = parse_rules([r("/a", "/b"), r("/<*>", "/x.html", "404"), r("/<*>", "/y.html", "404-200")])
    assert evaluate(two_404s, "/a", "", counting) == redirect(301, "/b")
    assert asked == []
    assert evaluate(two_404s, "/nope", "", counting) == rewrite("/x.html", 404)
    assert asked == ["/nope"]


def test_first_match_names_the_rule_that_applied() -> None:
    assert first_match(parse_rules([SPECIFIC, FOLDER]), "/docs/x", "", exists) == (2, redirect(301, "/documents/x"))


def test_rules_compile_once_for_the_same_list(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[Rule] = []
    real = engine._compile

    def counting(rule: Rule) -> Any:
        compiled.append(rule)
        return real(rule)

    engine._compiled.cache_clear()
    monkeypatch.setattr(engine, "_compile", counting)
    rules = parse_rules([SPECIFIC, FOLDER, SPA])
    for path in ("/docs/a", "/about", "/logo.png"):
        evaluate(rules, path, "", exists)
    evaluate(parse_rules([SPECIFIC, FOLDER, SPA]), "/x", "", exists)  # an equal list, parsed again
    assert len(compiled) == 3


# Each bad input, and the words its error must hold (the rule number and the field at fault).
INVALID = [
    ("not-an-array", {"source": "/a", "target": "/b", "status": "301"}, "must be a JSON array of rule objects, not an object"),
    ("too-many-rules", [r("/a", "/b")] * 501, "At most 500 rules"),
    ("rule-not-an-object", [r("/a", "/b"), "x"], "Rule 2: must be an object, not a string"),
    ("target-missing", [{"source": "/a", "status": "301"}], "Rule 1, target: is missing"),
    ("status-missing", [{"source": "/a", "target": "/b"}], "Rule 1, status: is missing"),
    ("unknown-field", [{**r("/a", "/b"), "sorce": "/x"}], "Rule 1, sorce: unknown field"),
    ("status-unknown", [r("/a", "/b", "307")], "Rule 1, status: '307' is not one of 200, 301, 302, 404, 404-200"),
    ("status-a-number", [{**r("/a", "/b"), "status": 301}], "Rule 1, status: must be a string, not a number"),
    ("source-empty", [r("", "/b")], "Rule 1, source: is empty"),
    ("source-null", [{**r("/a", "/b"), "source": None}], "Rule 1, source: must be a string, not null"),
    ("source-without-slash", [r("docs/<*>", "/documents/<*>")], "Rule 1, source: must be a path starting with /"),
    ("source-a-domain", [r("https://mydomain.com", "https://www.mydomain.com", "302")], "Rule 1, source: a whole-domain source"),
    ("source-bad-regex", [r("</(/>", "/index.html", "200")], "Rule 1, source: not a valid regular expression"),
    ("source-regex-too-long", [r("</" + "a" * 1001 + "/>", "/index.html", "200")], "longer than 1000 characters"),
    ("source-unclosed-placeholder", [r("/docs?id=<my-blog-id-value", "/documents")],
     "Rule 1, source: the '<' of '<my-blog-id-value' is not closed by '>'"),
    ("source-bad-placeholder", [r("/docs/<a b>", "/x")], "Rule 1, source: <a b> is not a placeholder"),
    ("source-two-wildcards", [r("/<*>/x/<*>", "/y")], "Rule 1, source: <*> may appear only once"),
    ("source-name-twice", [r("/<id>/<id>", "/y")], "Rule 1, source: <id> appears twice"),
    ("source-trailing-space", [r("/about ", "/b")], "Rule 1, source: has leading or trailing spaces"),
    ("rewrite-to-another-site", [r("/images/<*>", "https://images.otherdomain.com/<*>", "200")],
     "Rule 1, target: a rewrite (200) cannot fetch another site (https://images.otherdomain.com/<*>): "
     "this console is no open proxy"),
    ("not-found-rewrite-to-another-site", [r("/<*>", "https://x.example/404", "404-200")], "no open proxy"),
    ("rewrite-target-without-slash", [r("/a", "index.html", "200")], "Rule 1, target: must be a path starting with /"),
    ("redirect-to-ftp", [r("/a", "ftp://x.example/a")], "Rule 1, target: must be a path starting with / or an http(s):// URL"),
    ("redirect-to-url-without-host", [r("/a", "https:///a")], "Rule 1, target: 'https:///a' names no host"),
    ("target-protocol-relative", [r("/a", "//evil.example/a")], "Rule 1, target: a path cannot start with //"),
    ("target-with-space", [r("/a", "/b c")], "Rule 1, target: must not contain spaces"),
    ("target-unknown-placeholder", [r("/docs?id=<my-blog-id-value>", "/documents/<my-blog-post-id-value>")],
     "Rule 1, target: <my-blog-post-id-value> is not a placeholder of the source (it has <my-blog-id-value>)"),
    ("target-wildcard-without-source-one", [r("/a", "/b/<*>")],
     "Rule 1, target: <*> is not a placeholder of the source (it has none)"),
    ("target-placeholder-after-regex", [r("</^/a/>", "/b/<*>", "200")], "regular-expression source has no placeholders"),
    ("condition-not-a-country-code", [r("/a", "/b", "302", "US")], "Rule 1, condition: 'US' is not a two-letter country code"),
    ("error-names-its-rule", [r("/a", "/b"), r("/c", "/d"), r("/e", "f")], "Rule 3, target:"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_rules_are_refused_with_a_clear_error(data: object, expected: str) -> None:
    with pytest.raises(RulesInvalid) as refused:
        parse_rules(data)
    assert any(expected in error for error in refused.value.errors), refused.value.errors


def test_every_bad_rule_is_reported_at_once() -> None:
    with pytest.raises(RulesInvalid) as refused:
        parse_rules([r("/ok", "/fine"), r("nope", "/b"), r("/c", "/d", "999"), r("/e", "https://x.example", "200")])
    assert [e.split(":")[0] for e in refused.value.errors] == ["Rule 2, source", "Rule 3, status", "Rule 4, target"]


def test_documented_json_examples_parse() -> None:
    documented = json.loads(
        "["
        '{"source": "/original.html", "status": "301", "target": "/destination.html", "condition": null},'
        '{"source": "/docs/<*>", "status": "301", "target": "/documents/<*>", "condition": null},'
        '{"source": "/<*>", "status": "200", "target": "/index.html", "condition": null},'
        '{"source": "/<*>", "status": "404", "target": "/404.html", "condition": null},'
        f"{SPA_JSON},"
        '{"source": "/docs/<year>/<month>/<date>/<itemid>", "status": "301", '
        '"target": "/documents/<year>/<month>/<date>/<itemid>", "condition": null},'
        '{"source": "/docs?id=<my-blog-id-value>", "status": "301", '
        '"target": "/documents/<my-blog-id-value>", "condition": null},'
        '{"source": "/documents/<x>/<y>/<z>", "status": "404", "target": "/documents/index.html", "condition": null},'
        '{"source": "/documents", "status": "302", "target": "/documents/us/", "condition": "<US>"},'
        '{"source": "/<*>", "status": "404-200", "target": "/index.html"}'
        "]"
    )
    parsed = parse_rules(documented)
    assert [rule.status for rule in parsed] == ["301", "301", "200", "404", "200", "301", "301", "404", "302", "404-200"]
    assert parsed[8].condition == "<US>"
    assert parsed[9].condition is None


def test_json_export_round_trips_in_amplify_format() -> None:
    rules = parse_rules([FOLDER, SPA, REGION, r("/<*>", "/index.html", "404-200"), BY_ID])
    exported = rules_json(rules)
    assert parse_rules(json.loads(exported)) == rules
    first = json.loads(exported)[0]
    assert list(first) == ["source", "target", "status", "condition"]
    assert first["condition"] is None
    assert json.loads(exported)[2]["condition"] == "<US>"
    assert rules_json([]) == "[]"


def test_an_empty_condition_reads_as_none() -> None:
    assert parse_rules([r("/a", "/b", "301", "")]) == [Rule("/a", "/b", "301", None)]
