"""Build spec validation: errors name the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.branches.buildspec import BuildSpecInvalid, parse_build_spec

EXAMPLE_SPEC = Path(__file__).resolve().parents[3] / "examples" / "todo-app" / "amplify.yml"

GOOD = """version: 1
env:
  variables:
    NODE_ENV: production
backend:
  phases:
    build:
      commands:
        - npx ampx pipeline-deploy --branch $AWS_BRANCH --app-id $AWS_APP_ID
frontend:
  phases:
    preBuild:
      commands: [npm ci]
    build:
      commands: [npm run build]
  artifacts:
    baseDirectory: dist
    files: ['**/*']
    discard-paths: no
  cache:
    paths: [node_modules/**/*]
test:
  phases:
    test:
      commands: [npm test]
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(BuildSpecInvalid) as caught:
        parse_build_spec(text)
    return [str(e) for e in caught.value.errors]


def test_a_complete_spec_parses() -> None:
    spec = parse_build_spec(GOOD)
    assert spec["frontend"]["artifacts"]["baseDirectory"] == "dist"


def test_the_example_projects_spec_is_valid() -> None:
    spec = parse_build_spec(EXAMPLE_SPEC.read_text())
    assert "ampx_standin.py pipeline-deploy" in " ".join(spec["backend"]["phases"]["build"]["commands"])


def test_monorepo_applications_parse() -> None:
    text = "version: 1\napplications:\n  - appRoot: apps/web\n    frontend:\n      artifacts:\n        files: ['**/*']\n"
    assert parse_build_spec(text)["applications"][0]["appRoot"] == "apps/web"


def test_a_misspelt_key_names_key_and_line() -> None:
    text = GOOD.replace("    build:\n      commands: [npm run build]", "    biuld:\n      commands: [npm run build]")
    assert errors_of(text) == ["line 14, frontend.phases.biuld: unknown key 'biuld'; expected one of: build, postBuild, preBuild"]


def test_missing_artifact_files_is_reported_at_artifacts() -> None:
    text = "version: 1\nfrontend:\n  artifacts:\n    baseDirectory: dist\n"
    assert errors_of(text) == ["line 3, frontend.artifacts: 'files' is required"]


def test_commands_must_be_a_list() -> None:
    text = "version: 1\nbackend:\n  phases:\n    build:\n      commands: npm run build\n"
    assert errors_of(text) == ["line 5, backend.phases.build.commands: must be a list, not text"]


def test_every_problem_is_listed_at_once() -> None:
    text = "frontend:\n  phasez: {}\n"
    assert errors_of(text) == [
        "line 1, (top level): 'version' is required",
        "line 2, frontend.phasez: unknown key 'phasez'; expected one of: artifacts, buildpath, cache, customHeaders, phases",
    ]


def test_yaml_syntax_errors_give_the_line() -> None:
    assert errors_of("version: 1\nfrontend:\n  phases: [\n") == [
        "line 4, (top level): not valid YAML: expected the node content, but found '<stream end>'"
    ]


def test_a_spec_that_is_not_a_mapping_is_refused() -> None:
    assert errors_of("- just\n- a list\n") == [
        "line 1, (top level): the build spec must be a mapping of keys such as version, backend and frontend"
    ]


def test_oversized_specs_are_refused() -> None:
    assert "larger than 100 kB" in errors_of("version: 1\n#" + "x" * 100_001)[0]


def billion_laughs(levels: int = 8) -> str:
    """A few hundred bytes whose nested aliases expand to 9 ** 9 values."""
    lines = ["version: 1", "a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels + 1):
        previous = "a" if level == 1 else f"b{level - 1}"
        lines.append(f"b{level}: &b{level} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append(f"frontend: {{phases: {{build: {{commands: *b{levels}}}}}}}")
    return "\n".join(lines)


def test_aliases_that_expand_past_the_limit_are_refused_before_validation() -> None:
    assert len(billion_laughs()) < 1000
    assert errors_of(billion_laughs()) == [
        "spec, (top level): the build spec expands to more than 50,000 values through YAML aliases; write the repeated parts out"
    ]


def test_an_alias_inside_itself_and_deep_nesting_are_refused_with_their_reason() -> None:
    assert errors_of("version: 1\nx: &x [1, *x]\n") == ["line 2, (top level): an alias refers to the value that contains it"]
    assert errors_of("version: 1\nx: " + "[" * 5000 + "]" * 5000) == ["spec, (top level): the build spec is nested too deeply"]


def test_ordinary_aliases_still_work() -> None:
    spec = parse_build_spec(
        "version: 1\nfrontend:\n  phases:\n    preBuild: &install\n      commands: [npm ci]\n    build: *install\n"
    )
    assert spec["frontend"]["phases"]["build"] == {"commands": ["npm ci"]}
