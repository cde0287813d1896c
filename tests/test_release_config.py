"""The CI, release, Dependabot and Read the Docs configurations agree with the repository.

actionlint (run by scripts/test) checks that the workflows are valid; these tests check what
it cannot know: that they name tox environments, files and directories that exist, and that
the release workflow keeps its order and publishes without a stored token.
"""

from __future__ import annotations

import configparser
import itertools
import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"

pytestmark = pytest.mark.skipif(
    not WORKFLOWS.is_dir(),
    reason="needs the project's checkout (tox and the sdist run the tests from a copy)",
)


def load(relative: str) -> dict:
    return yaml.safe_load((REPO_ROOT / relative).read_text(encoding="utf-8"))


def expand_braces(pattern: str) -> list[str]:
    """tox's factor syntax: py{310,311}-django52 -> py310-django52, py311-django52."""
    parts = re.split(r"\{([^}]*)\}", pattern)
    choices = [[part] if index % 2 == 0 else part.split(",") for index, part in enumerate(parts)]
    return ["".join(combination) for combination in itertools.product(*choices)]


def tox_envs() -> set[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "tox.ini", encoding="utf-8")
    lines = parser["tox"]["env_list"].split()
    return {env for line in lines for env in expand_braces(line.strip())}


def ci_toxenvs() -> set[str]:
    jobs = load(".github/workflows/ci.yml")["jobs"]
    envs: set[str] = set()
    for job in jobs.values():
        matrix = job.get("strategy", {}).get("matrix", {})
        envs.update(cell["toxenv"] for cell in matrix.get("include", []))
        envs.update(matrix.get("toxenv", []))
        envs.update(
            re.findall(
                r"tox -e (\S+)$", "\n".join(step.get("run", "") for step in job["steps"]), re.M
            )
        )
    return {env.strip("\"'") for env in envs if "${{" not in env}


def test_ci_runs_every_tox_environment_and_only_those() -> None:
    # tox builds an environment for any factor-shaped name, so a typo would run, untested.
    assert ci_toxenvs() == tox_envs()


def test_one_ci_cell_runs_against_a_real_mongodb_replica_set() -> None:
    tests = load(".github/workflows/ci.yml")["jobs"]["tests"]
    cells = [cell for cell in tests["strategy"]["matrix"]["include"] if cell.get("mongodb")]
    assert len(cells) == 1
    script = "\n".join(step.get("run", "") for step in tests["steps"])
    assert "mongo:8 --replSet rs0" in script
    assert "MONGODB_URI=mongodb://127.0.0.1:27017/?replicaSet=rs0" in script


@pytest.mark.parametrize("workflow", sorted(path.name for path in WORKFLOWS.glob("*.yml")))
def test_every_file_a_workflow_hashes_or_caches_on_exists(workflow: str) -> None:
    text = (WORKFLOWS / workflow).read_text(encoding="utf-8")
    named = re.findall(r"hashFiles\(([^)]*)\)", text)
    paths = [path.strip(" '") for group in named for path in group.split(",")]
    for job in yaml.safe_load(text)["jobs"].values():
        for step in job["steps"]:
            dependency_paths = step.get("with", {}).get("cache-dependency-path", "")
            paths += dependency_paths.split()
    assert [path for path in paths if not (REPO_ROOT / path).is_file()] == []


MANIFESTS = {
    "pip": ["pyproject.toml", "requirements.txt", "requirements-dev.txt"],
    "npm": ["package.json", "package-lock.json"],
    "github-actions": [".github/workflows"],
}


DEPENDABOT_UPDATES = load(".github/dependabot.yml")["updates"] if WORKFLOWS.is_dir() else []


@pytest.mark.parametrize(
    "update", DEPENDABOT_UPDATES, ids=lambda update: update["package-ecosystem"]
)
def test_dependabot_looks_where_the_manifests_are_and_groups_its_updates(update: dict) -> None:
    directories = update.get("directories") or [update["directory"]]
    for directory in directories:
        found = [
            name
            for name in MANIFESTS[update["package-ecosystem"]]
            if (REPO_ROOT / directory.strip("/") / name).exists()
        ]
        assert found, f"{update['package-ecosystem']}: nothing to update in {directory}"
    assert update["schedule"]["interval"] == "weekly"
    assert update["groups"]


def test_read_the_docs_builds_the_sphinx_docs_with_warnings_as_errors() -> None:
    config = load(".readthedocs.yaml")
    assert config["sphinx"]["fail_on_warning"] is True
    assert (REPO_ROOT / config["sphinx"]["configuration"]).is_file()
    requirements = [
        item["requirements"] for item in config["python"]["install"] if "requirements" in item
    ]
    assert requirements == ["docs/requirements.txt"]


def release_jobs() -> dict:
    return load(".github/workflows/release.yml")["jobs"]


def test_the_release_builds_once_and_ships_what_it_checked_in_order() -> None:
    jobs = release_jobs()
    order = ["build", "check", "publish-testpypi", "publish-pypi", "github-release"]
    assert list(jobs) == order
    for earlier, later in itertools.pairwise(order):
        assert jobs[later]["needs"] == earlier
    # Only the build job builds; the others take its files from the dist artifact.
    builders = [
        name
        for name, job in jobs.items()
        if any("-m build" in step.get("run", "") for step in job["steps"])
    ]
    assert builders == ["build"]


def test_the_tag_is_checked_before_anything_is_built() -> None:
    runs = [step.get("run", "") for step in release_jobs()["build"]["steps"]]
    tag_check = next(
        index for index, run in enumerate(runs) if "scripts/release --check-tag" in run
    )
    build = next(index for index, run in enumerate(runs) if "-m build" in run)
    assert tag_check < build


@pytest.mark.parametrize(
    ("job", "environment"), [("publish-testpypi", "testpypi"), ("publish-pypi", "pypi")]
)
def test_publishing_uses_trusted_publishing_and_no_stored_token(job: str, environment: str) -> None:
    publish = release_jobs()[job]
    assert publish["environment"]["name"] == environment
    assert publish["permissions"] == {"id-token": "write"}
    step = next(
        step
        for step in publish["steps"]
        if step.get("uses", "").startswith("pypa/gh-action-pypi-publish@")
    )
    assert "password" not in step.get("with", {})
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    # The maintainer registers exactly these names on PyPI; the docs must say them.
    releasing = (REPO_ROOT / "docs" / "releasing.md").read_text(encoding="utf-8")
    assert f"`{environment}`" in releasing and "`release.yml`" in releasing
