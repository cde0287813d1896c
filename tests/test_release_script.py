"""scripts/release, run in a throwaway clone of this repository.

The project is cloned once and given a known CHANGELOG and version (released 1.4.0, two
entries waiting under Unreleased); each test runs the script in its own copy of that clone,
whose ``origin`` is an empty bare repository so that any push would show.  A refused
release must leave the copy exactly as it found it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
RELEASE_SCRIPT = REPO_ROOT / "scripts" / "release"

pytestmark = pytest.mark.skipif(
    not (RELEASE_SCRIPT.is_file() and (REPO_ROOT / ".git").exists()),
    reason="needs the project's git checkout (tox and the sdist run the tests from a copy)",
)

PROJECT_URL = "https://github.com/skillswap/django-skillswap-payments"
UNRELEASED_ENTRIES = """### Added
- Tips can carry a short thank-you note.

### Fixed
- A refunded tip is recorded once."""
CHANGELOG = f"""# Changelog

All notable changes to this project are documented here.

## [Unreleased]

{UNRELEASED_ENTRIES}

## [1.4.0] — 2029-12-01

### Added
- Premium upgrades.

[Unreleased]: {PROJECT_URL}/compare/v1.4.0...HEAD
[1.4.0]: {PROJECT_URL}/releases/tag/v1.4.0
"""
VERSION_FILE = Path("django_skillswap_payments") / "__init__.py"


def git_env(home: Path) -> dict[str, str]:
    """Git without the machine's or the user's configuration (signing, hooks, templates)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


class Clone:
    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"git {args}: {result.stderr}"
        return result.stdout.strip()

    def release(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(RELEASE_SCRIPT), *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
        )

    def read(self, relative: str | Path) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def write(self, relative: str | Path, text: str) -> None:
        (self.path / relative).write_text(text, encoding="utf-8")

    def set_version(self, version: str) -> None:
        text = re.sub(
            r'__version__ = "[^"]*"', f'__version__ = "{version}"', self.read(VERSION_FILE)
        )
        self.write(VERSION_FILE, text)

    def commit_all(self, message: str) -> None:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)

    def snapshot(self) -> dict[str, str]:
        """Everything a refused release must leave alone."""
        return {
            "head": self.git("rev-parse", "HEAD"),
            "branch": self.git("rev-parse", "--abbrev-ref", "HEAD"),
            "tags": self.git("tag", "--list"),
            "status": self.git("status", "--porcelain"),
            "version": self.read(VERSION_FILE),
            "changelog": self.read("CHANGELOG.md"),
        }


@pytest.fixture(scope="module")
def prepared_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clone in the known state; each test works on a copy of it."""
    home = tmp_path_factory.mktemp("release-home")
    path = tmp_path_factory.mktemp("release-template") / "clone"
    env = git_env(home)
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", "--no-tags", REPO_ROOT.as_uri(), str(path)],
        check=True,
        env=env,
    )
    repo = Clone(path, env)
    repo.git("checkout", "--quiet", "-B", "main")
    repo.git("config", "user.name", "Release Tester")
    repo.git("config", "user.email", "release-tester@example.com")
    repo.write("CHANGELOG.md", CHANGELOG)
    repo.set_version("1.4.0")
    repo.commit_all("Known state for the release tests")
    repo.git("tag", "--annotate", "v1.4.0", "-m", "Release 1.4.0")
    return path


@pytest.fixture
def clone(prepared_clone: Path, tmp_path: Path) -> Clone:
    env = git_env(tmp_path)
    path = tmp_path / "clone"
    shutil.copytree(prepared_clone, path, symlinks=True)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True, env=env)
    repo = Clone(path, env)
    repo.git("remote", "set-url", "origin", str(origin))
    return repo


def assert_refused(
    result: subprocess.CompletedProcess[str], clone: Clone, before: dict[str, str], reason: str
) -> None:
    assert result.returncode != 0, result.stdout
    assert reason in result.stderr
    assert clone.snapshot() == before


def test_a_good_version_is_committed_and_tagged_and_the_push_is_left_to_the_maintainer(
    clone: Clone,
) -> None:
    result = clone.release("1.5.0", "--date", "2030-01-02")

    assert result.returncode == 0, result.stderr
    assert '__version__ = "1.5.0"' in clone.read(VERSION_FILE)
    changelog = clone.read("CHANGELOG.md")
    assert changelog == CHANGELOG.replace(
        "## [Unreleased]\n", "## [Unreleased]\n\n## [1.5.0] — 2030-01-02\n", 1
    ).replace(
        f"[Unreleased]: {PROJECT_URL}/compare/v1.4.0...HEAD\n",
        f"[Unreleased]: {PROJECT_URL}/compare/v1.5.0...HEAD\n"
        f"[1.5.0]: {PROJECT_URL}/compare/v1.4.0...v1.5.0\n",
    )
    assert clone.git("log", "-1", "--format=%s") == "Release 1.5.0"
    assert clone.git("show", "--name-only", "--format=", "HEAD").splitlines() == [
        "CHANGELOG.md",
        str(VERSION_FILE),
    ]
    assert clone.git("cat-file", "-t", "v1.5.0") == "tag"
    assert clone.git("rev-parse", "v1.5.0^{commit}") == clone.git("rev-parse", "HEAD")
    assert clone.git("status", "--porcelain") == ""
    assert "git push --atomic origin main v1.5.0" in result.stdout
    assert clone.git("ls-remote", "origin") == ""


def test_the_release_notes_and_the_tag_check_read_the_new_section(clone: Clone) -> None:
    assert clone.release("1.5.0", "--date", "2030-01-02").returncode == 0

    notes = clone.release("--notes", "1.5.0")
    assert notes.returncode == 0, notes.stderr
    assert notes.stdout.strip() == UNRELEASED_ENTRIES
    older = clone.release("--notes", "1.4.0")
    assert older.stdout.strip() == "### Added\n- Premium upgrades."
    assert clone.release("--check-tag", "v1.5.0").returncode == 0


@pytest.mark.parametrize("version", ["1.4.0", "1.3.9", "1.0.0", "0.10.0"])
def test_a_version_not_greater_than_the_last_release_is_refused(clone: Clone, version: str) -> None:
    before = clone.snapshot()
    assert_refused(
        clone.release(version), clone, before, "not greater than the last release, 1.4.0"
    )


def test_a_tag_ahead_of_the_changelog_counts_as_the_last_release(clone: Clone) -> None:
    clone.git("tag", "--annotate", "v1.6.0", "-m", "Release 1.6.0")
    before = clone.snapshot()
    assert_refused(
        clone.release("1.5.0"), clone, before, "not greater than the last release, 1.6.0"
    )


def test_a_changelog_section_counts_as_released_even_without_its_tag(clone: Clone) -> None:
    clone.git("tag", "--delete", "v1.4.0")
    before = clone.snapshot()
    assert_refused(
        clone.release("1.4.0"), clone, before, "not greater than the last release, 1.4.0"
    )


@pytest.mark.parametrize(
    "version", ["1.5", "v1.5.0", "1.5.0rc1", "1.5.0.0", "01.5.0", "1.5.0 ", "latest", ""]
)
def test_a_malformed_version_is_refused(clone: Clone, version: str) -> None:
    before = clone.snapshot()
    assert_refused(clone.release(version), clone, before, "is not a version of the form X.Y.Z")


def make_dirty(clone: Clone, kind: str) -> None:
    if kind == "modified":
        clone.write("README.md", clone.read("README.md") + "\nA local edit.\n")
    elif kind == "staged":
        clone.write("README.md", clone.read("README.md") + "\nA staged edit.\n")
        clone.git("add", "README.md")
    elif kind == "untracked":
        clone.write("notes.txt", "not committed\n")
    elif kind == "deleted":
        (clone.path / "LICENSE").unlink()


@pytest.mark.parametrize("kind", ["modified", "staged", "untracked", "deleted"])
def test_a_dirty_tree_is_refused(clone: Clone, kind: str) -> None:
    make_dirty(clone, kind)
    before = clone.snapshot()
    assert_refused(clone.release("1.5.0"), clone, before, "working tree has changes")


@pytest.mark.parametrize("checkout", [["-b", "feature"], ["--detach"]])
def test_a_release_off_main_is_refused(clone: Clone, checkout: list[str]) -> None:
    clone.git("checkout", "--quiet", *checkout)
    before = clone.snapshot()
    assert_refused(clone.release("1.5.0"), clone, before, "Releases are cut on main")


def test_an_empty_unreleased_section_is_refused(clone: Clone) -> None:
    assert clone.release("1.5.0").returncode == 0
    before = clone.snapshot()
    assert_refused(clone.release("1.6.0"), clone, before, "nothing to release")


def test_the_first_release_may_use_the_version_already_in_the_source(clone: Clone) -> None:
    clone.git("tag", "--delete", "v1.4.0")
    clone.write("CHANGELOG.md", f"# Changelog\n\n## [Unreleased]\n\n{UNRELEASED_ENTRIES}\n")
    clone.set_version("0.1.0")
    clone.commit_all("Before the first release")

    before = clone.snapshot()
    assert_refused(clone.release("0.0.9"), clone, before, "lower than the version in")
    result = clone.release("0.1.0", "--date", "2030-01-02")
    assert result.returncode == 0, result.stderr
    assert clone.read("CHANGELOG.md").startswith(
        f"# Changelog\n\n## [Unreleased]\n\n## [0.1.0] — 2030-01-02\n\n{UNRELEASED_ENTRIES}"
    )
    assert clone.git("rev-parse", "v0.1.0^{commit}") == clone.git("rev-parse", "HEAD")


def test_a_failed_commit_leaves_the_tree_as_it_was(clone: Clone) -> None:
    hook = clone.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by hook' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    before = clone.snapshot()
    assert_refused(clone.release("1.5.0"), clone, before, "refused by hook")


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("v1.4.1", "does not match the package version 1.4.0"),
        ("1.4.0", "Release tags look like vX.Y.Z"),
        ("v1.4", "does not match the package version 1.4.0"),
    ],
)
def test_the_tag_check_stops_a_tag_that_is_not_the_package_version(
    clone: Clone, tag: str, reason: str
) -> None:
    result = clone.release("--check-tag", tag)
    assert result.returncode != 0
    assert reason in result.stderr


def test_the_tag_check_wants_the_changelog_section_of_the_version(clone: Clone) -> None:
    clone.set_version("1.4.1")
    clone.commit_all("Version bumped by hand, no CHANGELOG section")
    result = clone.release("--check-tag", "v1.4.1")
    assert result.returncode != 0
    assert "no entries under '## [1.4.1]'" in result.stderr
    assert clone.release("--notes", "1.4.1").returncode != 0
