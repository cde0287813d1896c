"""The sdist: it carries the tests, the docs and the license, installs into a new virtualenv,
and the tests it carries pass against that installed copy.

Downstream packagers test from the sdist, and the release workflow does too, so a file left
out of it is a broken release.  The wheel side (only the package) is scripts/check_wheel.py.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django_skillswap_payments"

pytestmark = pytest.mark.skipif(
    not ((REPO_ROOT / PACKAGE).is_dir() and (REPO_ROOT / ".git").exists()),
    reason="needs the project's git checkout (tox and the sdist run the tests from a copy)",
)

# A fast slice of the suite that still goes through Django settings, the pytest plugin, the
# test helpers in tests/support and the MongoDB fixtures.
FAST_TESTS = ["tests/test_money.py", "tests/test_redirects.py", "tests/test_webhook_signature.py"]
# Never in an sdist: build output, local environments, caches, the demo's data.
STRAY_PARTS = {
    "__pycache__",
    "node_modules",
    ".next",
    ".venv",
    ".venvs",
    ".tox",
    "_build",
    "dist",
    "var",
    ".git",
}
STRAY_SUFFIXES = (".pyc", ".pyo")


def can_build_offline() -> bool:
    """Whether this environment has the build backend, so nothing is fetched to build."""
    if not (importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel")):
        return False
    return int(importlib.metadata.version("setuptools").split(".")[0]) >= 77


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


# Build output and local state a maintainer's tree may hold; none of it may reach the sdist.
PLANTED_STRAYS = [
    "tests/__pycache__/conftest.cpython-313.pyc",
    "tests/support/__pycache__/api.cpython-313.pyc",
    "tests/stray.pyc",
    "docs/_build/html/index.html",
    "docs/.DS_Store",
    "example_project/frontend/node_modules/next/package.json",
    "example_project/frontend/.next/build-manifest.json",
    "example_project/var/db.sqlite3",
    ".venv/bin/python",
    ".tox/py313/bin/python",
    "dist/old-0.0.1.tar.gz",
]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist built from the files of a fresh checkout of this tree, plus planted strays.

    Built from a copy: in the tree itself a stale *.egg-info/SOURCES.txt would put back files
    that MANIFEST.in no longer names.
    """
    source = tmp_path_factory.mktemp("source")
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT
    ).stdout
    for relative in filter(None, listed.split("\0")):
        if (REPO_ROOT / relative).is_file():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / relative, source / relative)
    for relative in PLANTED_STRAYS:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text("stray\n", encoding="utf-8")
    outdir = tmp_path_factory.mktemp("sdist")
    isolation = ["--no-isolation"] if can_build_offline() else []
    run(
        [sys.executable, "-m", "build", "--sdist", *isolation, "--outdir", str(outdir), str(source)]
    )
    (archive,) = outdir.glob("*.tar.gz")
    return archive


def sdist_files(archive: Path) -> set[str]:
    """Paths of the regular files in the sdist, relative to its top directory."""
    with tarfile.open(archive) as tar:
        return {member.name.split("/", 1)[1] for member in tar.getmembers() if member.isfile()}


def test_the_sdist_holds_every_test_and_doc_file_and_the_license(sdist: Path) -> None:
    tracked = run(["git", "ls-files", "--", "tests", "docs"], cwd=REPO_ROOT).stdout.split()
    wanted = {path for path in tracked if (REPO_ROOT / path).is_file()}
    wanted |= {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", f"{PACKAGE}/__init__.py"}

    assert sorted(wanted - sdist_files(sdist)) == []


def test_the_sdist_leaves_out_build_output_caches_and_local_state(sdist: Path) -> None:
    files = sdist_files(sdist)
    assert [stray for stray in PLANTED_STRAYS if stray in files] == []
    strays = [
        name
        for name in files
        if STRAY_PARTS.intersection(name.split("/")[:-1]) or name.endswith(STRAY_SUFFIXES)
    ]
    assert strays == []


def test_the_sdist_installs_in_a_fresh_virtualenv_and_its_tests_pass_against_it(
    sdist: Path, tmp_path: Path, mongodb_uri: str
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    site_packages = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    )
    # The new environment borrows this one's dependencies instead of downloading them: a .pth
    # line adds their directory to sys.path, after the environment's own site-packages. The
    # .pth files in that directory (among them this checkout's editable install) are not run.
    borrowed = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (site_packages / "borrowed_dependencies.pth").write_text(
        "\n".join(borrowed) + "\n", encoding="utf-8"
    )
    offline = ["--no-build-isolation", "--no-index"] if can_build_offline() else []
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-deps",
            *offline,
            str(sdist),
        ]
    )

    # The wheel built from the sdist installs the package and its metadata, nothing else.
    installed = {entry.name for entry in site_packages.iterdir()}
    assert installed - {"borrowed_dependencies.pth"} == {
        PACKAGE,
        f"{PACKAGE}-{sdist_version(sdist)}.dist-info",
    }

    # Run the sdist's own tests from a directory without the package source, as tox does.
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tar:
        # The "data" filter (Python 3.12, and security releases before it) refuses odd members.
        tar.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (top,) = unpacked.iterdir()
    workdir = tmp_path / "run"
    shutil.copytree(top / "tests", workdir / "tests")
    shutil.copy(top / "pyproject.toml", workdir)

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTEST_ADDOPTS")
    }
    env["MONGODB_URI"] = mongodb_uri
    imported_from = run(
        [python, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"], cwd=workdir, env=env
    )
    assert Path(imported_from.stdout.strip()).is_relative_to(site_packages)

    result = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", *FAST_TESTS],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1]


def sdist_version(archive: Path) -> str:
    return archive.name.removesuffix(".tar.gz").rsplit("-", 1)[1]
