"""Amplify's customHeaders YAML: parsing, refusals, pattern matching, and reading customHttp.yml."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.hosting.custom_headers import (
    MAX_HEADERS_PER_RULE,
    MAX_RULES,
    MAX_TEXT_BYTES,
    MAX_VALUE_BYTES,
    HeaderRule,
    HeadersInvalid,
    headers_for,
    parse_custom_headers,
    pattern_matches,
    read_custom_http,
)

# https://docs.aws.amazon.com/amplify/latest/userguide/custom-header-YAML-format.html
DOCUMENTED = """customHeaders:
  - pattern: '*.json'
    headers:
    - key: 'custom-header-name-1'
      value: 'custom-header-value-1'
    - key: 'custom-header-name-2'
      value: 'custom-header-value-2'
  - pattern: '/path/*'
    headers:
    - key: 'custom-header-name-1'
      value: 'custom-header-value-2'
"""

DOCUMENTED_MONOREPO = """applications:
  - appRoot: app1
    customHeaders:
    - pattern: '**/*'
      headers:
      - key: 'custom-header-name-1'
        value: 'custom-header-value-1'
  - appRoot: app2
    customHeaders:
    - pattern: '/path/*.json'
      headers:
      - key: 'custom-header-name-2'
        value: 'custom-header-value-2'
"""

# https://docs.aws.amazon.com/amplify/latest/userguide/setting-custom-headers.html (security headers)
DOCUMENTED_SECURITY = """customHeaders:
  - pattern: '**'
    headers:
      - key: 'Strict-Transport-Security'
        value: 'max-age=31536000; includeSubDomains'
      - key: 'X-Frame-Options'
        value: 'SAMEORIGIN'
      - key: 'X-XSS-Protection'
        value: '1; mode=block'
      - key: 'X-Content-Type-Options'
        value: 'nosniff'
      - key: 'Content-Security-Policy'
        value: "default-src 'self'"
"""


def one_header(key: str, value: str = "'x'", pattern: str = "'**/*'") -> str:
    return f"customHeaders:\n  - pattern: {pattern}\n    headers:\n      - key: {key}\n        value: {value}\n"


def refusal(text: str, **kwargs: str | None) -> str:
    with pytest.raises(HeadersInvalid) as caught:
        parse_custom_headers(text, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def test_amplify_documented_example_parses_in_order() -> None:
    assert parse_custom_headers(DOCUMENTED) == [
        HeaderRule(
            "*.json", (("custom-header-name-1", "custom-header-value-1"), ("custom-header-name-2", "custom-header-value-2"))
        ),
        HeaderRule("/path/*", (("custom-header-name-1", "custom-header-value-2"),)),
    ]


def test_amplify_security_headers_example_applies_to_every_path() -> None:
    rules = parse_custom_headers(DOCUMENTED_SECURITY)
    names = [name for name, _ in headers_for(rules, "/deep/down/app.js")]
    assert names == [
        "Strict-Transport-Security",
        "X-Frame-Options",
        "X-XSS-Protection",
        "X-Content-Type-Options",
        "Content-Security-Policy",
    ]
    assert dict(headers_for(rules, "/"))["Content-Security-Policy"] == "default-src 'self'"


def test_monorepo_form_picks_the_apps_own_root() -> None:
    assert [r.pattern for r in parse_custom_headers(DOCUMENTED_MONOREPO, app_root="app2")] == ["/path/*.json"]
    assert [r.pattern for r in parse_custom_headers(DOCUMENTED_MONOREPO, app_root="/app1/")] == ["**/*"]
    assert parse_custom_headers(DOCUMENTED_MONOREPO, app_root="app3") == []


def test_monorepo_form_with_several_apps_needs_the_app_root_and_a_single_one_does_not() -> None:
    assert "set AMPLIFY_MONOREPO_APP_ROOT" in refusal(DOCUMENTED_MONOREPO)
    text = "applications:\n  - appRoot: web\n    customHeaders:\n      - pattern: '*'\n        headers: []\n"
    assert parse_custom_headers(text) == [HeaderRule("*", ())]


def test_a_mistake_in_another_apps_entry_is_still_found() -> None:
    text = DOCUMENTED_MONOREPO.replace("custom-header-name-2", "Set-Cookie")
    assert "applications[1].customHeaders[0].headers[0].key: Set-Cookie cannot be set" in refusal(text, app_root="app1")


@pytest.mark.parametrize("text", ["", "   \n", "# nothing yet\n", "customHeaders:\n", "customHeaders: []\n"])
def test_empty_text_means_no_rules(text: str) -> None:
    assert parse_custom_headers(text) == []


def test_bad_yaml_says_line_and_column() -> None:
    text = "customHeaders:\n  - pattern: '*'\n    headers:\n      - key: X-A\n       value: b\n"
    message = refusal(text)
    assert message.startswith("line 5, column ")
    assert "not valid YAML" in message


def test_an_unclosed_quote_says_where() -> None:
    assert refusal("customHeaders:\n  - pattern: '*.js\n").startswith("line ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n", "line 1, (top level): must be a mapping, not a list"),
        ("customHeader:\n  - pattern: x\n", "line 1, customHeader: unknown key; expected applications or customHeaders"),
        ("customHeaders:\n  - pattern: '*'\n", "line 2, customHeaders[0].headers: is required"),
        ("customHeaders:\n  - pattern: '*'\n    headers: x\n", "line 3, customHeaders[0].headers: must be a list, not text"),
        (
            one_header("X-A", "true"),
            "line 5, customHeaders[0].headers[0].value: must be text or a whole number, not true or false "
            "(put the value in quotes)",
        ),
        (one_header("X-A", "''", "''"), "line 2, customHeaders[0].pattern: "),
        (one_header("X-A").replace("        value: 'x'\n", ""), "line 4, customHeaders[0].headers[0].value: is required"),
        (DOCUMENTED + DOCUMENTED_MONOREPO, "applications: use customHeaders or applications (a monorepo), not both"),
    ],
)
def test_shape_errors_name_the_path_and_line(text: str, expected: str) -> None:
    assert expected in refusal(text)


def test_whole_numbers_are_taken_as_written() -> None:
    rules = parse_custom_headers(one_header("Expires", "0"))
    assert rules[0].headers == (("Expires", "0"),)


@pytest.mark.parametrize(
    "name",
    [
        "Connection",
        "keep-alive",
        "Transfer-Encoding",
        "Content-Length",
        "Content-Encoding",
        "TE",
        "Trailer",
        "Upgrade",
        "Proxy-Authorization",
        "proxy-connection",
        "Host",
        "Date",
        "Set-Cookie",
        "Clear-Site-Data",
        "WWW-Authenticate",
    ],
)
def test_forbidden_headers_are_refused_with_a_reason(name: str) -> None:
    message = refusal(one_header(name))
    assert message.startswith(f"line 4, customHeaders[0].headers[0].key: {name} cannot be set: ")


@pytest.mark.parametrize("name", ["'X A'", "'X-A:'", "''", "'Ümlaut'", "'X\\u0000A'", "'(x)'"])
def test_names_that_are_not_http_tokens_are_refused(name: str) -> None:
    assert "is not a header name" in refusal(one_header(name))


@pytest.mark.parametrize(
    "value",
    ['"a\\r\\nSet-Cookie: session=x"', '"a\\nb"', '"a\\rb"', '"a\\u0000b"', '"a\\u2028b"', '"a\\x7fb"', '"a\\x85b"'],
)
def test_line_breaks_and_control_characters_in_values_are_refused(value: str) -> None:
    assert "control characters" in refusal(one_header("X-A", value))


def test_a_tab_and_unicode_text_are_fine_and_edges_are_trimmed() -> None:
    rules = parse_custom_headers(one_header("X-A", '"  a\\tb é  "'))
    assert rules[0].headers == (("X-A", "a\tb é"),)


def test_a_multi_line_yaml_value_folds_into_one_line() -> None:
    text = one_header("Content-Security-Policy", ">-\n          default-src 'self';\n          img-src *")
    assert parse_custom_headers(text)[0].headers == (("Content-Security-Policy", "default-src 'self'; img-src *"),)


def test_sizes_are_bounded() -> None:
    rule = "  - pattern: '*'\n    headers: []\n"
    assert "customHeaders: at most 100 entries" in refusal("customHeaders:\n" + rule * (MAX_RULES + 1))
    header = "      - key: X-A\n        value: b\n"
    many = "customHeaders:\n  - pattern: '*'\n    headers:\n" + header * (MAX_HEADERS_PER_RULE + 1)
    assert "customHeaders[0].headers: at most 50 entries" in refusal(many)
    assert "longer than 8 KiB" in refusal(one_header("X-A", "a" * (MAX_VALUE_BYTES + 1)))
    assert "larger than 64 KiB" in refusal("#" * (MAX_TEXT_BYTES + 1))


def test_aliases_that_expand_past_the_bound_are_refused_but_small_ones_work() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [{', '.join([f'*{previous}'] * 10)}]\n"
    assert "through YAML aliases" in refusal(bomb)
    shared = (
        "customHeaders:\n  - pattern: '*.js'\n    headers: &common\n      - key: X-A\n        value: b\n"
        "  - pattern: '*.css'\n    headers: *common\n"
    )
    assert [r.headers for r in parse_custom_headers(shared)] == [(("X-A", "b"),), (("X-A", "b"),)]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**/*", "/", True),
        ("**/*", "/index.html", True),
        ("**/*", "/a/b/c.js", True),
        ("**", "/a/b/c.js", True),
        ("*", "/a/b/c.js", True),
        ("*.js", "/app.js", True),
        ("*.js", "/static/js/app.js", True),
        ("*.js", "/app.json", False),
        ("*.js", "/app.js.map", False),
        ("*.json", "/data/x.json", True),
        ("/*.js", "/app.js", True),
        ("/*.js", "/static/app.js", False),
        ("/path/*", "/path/a.json", True),
        ("/path/*", "/path/", True),
        ("/path/*", "/path/a/b.json", False),
        ("/path/*", "/other/path/a.json", False),
        ("path/*", "/path/a.json", True),
        ("/path/*.json", "/path/a.json", True),
        ("/path/*.json", "/path/a.js", False),
        ("/images/**", "/images/a/b/c.png", True),
        ("/images/**", "/imagesx/a.png", False),
        ("/**/*.html", "/index.html", True),
        ("/**/*.html", "/a/b/index.html", True),
        ("/foo/**/bar.html", "/foo/bar.html", True),
        ("/foo/**/bar.html", "/foo/x/y/bar.html", True),
        ("/", "/", True),
        ("/", "/index.html", False),
        ("/index.html", "/index.html", True),
        ("/index.html", "/docs/index.html", False),
        ("index.html", "/docs/index.html", True),
        ("?.txt", "/a.txt", True),
        ("?.txt", "/ab.txt", False),
        ("*.JS", "/app.js", False),
        ("/a+b(c).js", "/a+b(c).js", True),
        ("/a+b(c).js", "/aab(c).js", False),
        ("*.{woff,ttf}", "/font.woff", False),
        ("*.{woff,ttf}", "/font.{woff,ttf}", True),
    ],
)
def test_pattern_matching(pattern: str, path: str, matches: bool) -> None:
    assert pattern_matches(pattern, path) is matches


def test_every_matching_rule_applies_and_the_later_one_wins() -> None:
    rules = [
        HeaderRule("**/*", (("Cache-Control", "public, max-age=300"), ("X-Robots-Tag", "noindex"))),
        HeaderRule("*.css", (("cache-control", "public, max-age=604800, immutable"),)),
        HeaderRule("/admin/*", (("X-Frame-Options", "DENY"),)),
    ]
    assert headers_for(rules, "/styles/site.css") == [
        ("cache-control", "public, max-age=604800, immutable"),
        ("X-Robots-Tag", "noindex"),
    ]
    assert headers_for(rules, "/admin/index.html") == [
        ("Cache-Control", "public, max-age=300"),
        ("X-Robots-Tag", "noindex"),
        ("X-Frame-Options", "DENY"),
    ]
    assert headers_for([rules[2]], "/index.html") == []


def test_the_same_header_twice_in_one_rule_keeps_the_last() -> None:
    text = one_header("X-A", "'1'") + "      - key: x-a\n        value: '2'\n"
    assert headers_for(parse_custom_headers(text), "/") == [("x-a", "2")]


def test_read_custom_http_absent_is_none(tmp_path: Path) -> None:
    assert read_custom_http(tmp_path, "") is None
    (tmp_path / "web").mkdir()
    assert read_custom_http(tmp_path, "web") is None


def test_read_custom_http_reads_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "customHttp.yml").write_text(DOCUMENTED)
    assert read_custom_http(tmp_path, "") == DOCUMENTED


def test_read_custom_http_prefers_the_app_roots_own_file_then_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "customHttp.yml").write_text(DOCUMENTED_MONOREPO)
    (tmp_path / "app1").mkdir()
    (tmp_path / "app2").mkdir()
    (tmp_path / "app2" / "customHttp.yml").write_text(DOCUMENTED)
    assert read_custom_http(tmp_path, "app2") == DOCUMENTED
    assert read_custom_http(tmp_path, "app1") == DOCUMENTED_MONOREPO  # Amplify's monorepo file, at the root


def test_read_custom_http_refuses_a_symlink_to_a_file_outside(tmp_path: Path) -> None:
    (tmp_path / "customHttp.yml").symlink_to("/etc/passwd")
    with pytest.raises(HeadersInvalid, match="symbolic link"):
        read_custom_http(tmp_path, "")


def test_read_custom_http_refuses_a_symlink_even_inside_the_project(tmp_path: Path) -> None:
    (tmp_path / "real.yml").write_text(DOCUMENTED)
    (tmp_path / "customHttp.yml").symlink_to(tmp_path / "real.yml")
    with pytest.raises(HeadersInvalid, match="symbolic link"):
        read_custom_http(tmp_path, "")


def test_read_custom_http_refuses_an_app_root_that_leads_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "customHttp.yml").write_text(DOCUMENTED)
    project = tmp_path / "project"
    project.mkdir()
    (project / "web").symlink_to(outside)
    with pytest.raises(HeadersInvalid, match="not a folder of the repository"):
        read_custom_http(project, "web")
    with pytest.raises(HeadersInvalid, match="not a folder of the repository"):
        read_custom_http(project, "../outside")


def test_read_custom_http_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "customHttp.yml")
    with pytest.raises(HeadersInvalid, match="not a regular file"):
        read_custom_http(tmp_path, "")


def test_read_custom_http_refuses_a_file_over_64_kib(tmp_path: Path) -> None:
    (tmp_path / "customHttp.yml").write_text("#" * (MAX_TEXT_BYTES + 1))
    with pytest.raises(HeadersInvalid, match="larger than 64 KiB"):
        read_custom_http(tmp_path, "")
    (tmp_path / "customHttp.yml").write_text("#" * MAX_TEXT_BYTES)
    assert read_custom_http(tmp_path, "") == "#" * MAX_TEXT_BYTES
