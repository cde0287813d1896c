"""The example project: its own test suite, its settings' defaults and its setup.

The example site has settings of its own (JWT, WhiteNoise, the mounted
emulator), so it runs in child processes rather than under this suite's settings.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from django_skillswap_payments.testing.mongo import with_database

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PROJECT = REPO_ROOT / "example_project"

# The suite also runs against the installed wheel from a copy of tests/ alone (tox).
pytestmark = pytest.mark.skipif(
    not EXAMPLE_PROJECT.is_dir(), reason="the repository's example project is not beside these tests"
)


def _demo_requirements_missing() -> str | None:
    try:
        import dotenv  # noqa: F401
        import rest_framework_simplejwt  # noqa: F401
        import whitenoise  # noqa: F401
    except ImportError as exc:
        return exc.name
    return None


@pytest.fixture(scope="module")
def example_env(tmp_path_factory):
    missing = _demo_requirements_missing()
    if missing:
        message = f"the example site's requirements are not installed ({missing})"
        if os.environ.get("SKILLSWAP_REQUIRE_E2E") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DJANGO_", "DEMO_")) and key != "MONGODB_URI"
    }
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        # Nothing listens there: nothing a test triggers can reach a running demo.
        env["DEMO_PORT"] = str(sock.getsockname()[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _settings_of(env: dict, var_dir: Path, **extra: str) -> dict:
    code = (
        "import json, example_site.settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'secret_key': s.SECRET_KEY, "
        "'stripe_key': s.SKILLSWAP_PAYMENTS['STRIPE_SECRET_KEY'], "
        "'state_file': str(getattr(s, 'STRIPE_EMULATOR_STATE_FILE', None))}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=EXAMPLE_PROJECT,
        env={**env, "DEMO_VAR_DIR": str(var_dir), **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout)


def test_the_example_sites_own_tests_pass(example_env, mongodb_uri, tmp_path):
    database = f"skillswap_example_{uuid.uuid4().hex[:8]}"
    env = {
        **example_env,
        "MONGODB_URI": with_database(mongodb_uri, database),
        "DEMO_VAR_DIR": str(tmp_path / "var"),
    }
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "test", "demo", "--noinput", "-v", "2", "--durations", "10"],
            cwd=EXAMPLE_PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        from pymongo import MongoClient

        with MongoClient(mongodb_uri) as client:
            client.drop_database(database)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    assert re.search(r"Ran [1-9]\d* tests?", result.stderr), result.stderr[-2000:]


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off", "False", "anything"])
def test_debug_is_off_unless_asked_for(example_env, tmp_path, value):
    extra = {"DJANGO_DEBUG": value} if value else {}
    assert _settings_of(example_env, tmp_path, **extra)["debug"] is False


@pytest.mark.parametrize("value", ["1", "true", "True", "yes", "on", " 1 "])
def test_debug_can_be_turned_on(example_env, tmp_path, value):
    assert _settings_of(example_env, tmp_path, DJANGO_DEBUG=value)["debug"] is True


def test_secrets_are_generated_once_per_machine_and_kept_private(example_env, tmp_path):
    first = _settings_of(example_env, tmp_path / "var")
    again = _settings_of(example_env, tmp_path / "var")
    elsewhere = _settings_of(example_env, tmp_path / "other")

    assert first["secret_key"] == again["secret_key"]
    assert first["stripe_key"] == again["stripe_key"]
    assert first["secret_key"] != elsewhere["secret_key"]
    assert first["stripe_key"] != elsewhere["stripe_key"]
    assert len(first["secret_key"]) >= 50
    assert first["stripe_key"].startswith("sk_test_")
    for name in ("django-secret-key", "stripe-emulator-key"):
        mode = stat.S_IMODE((tmp_path / "var" / name).stat().st_mode)
        assert mode & 0o077 == 0, f"{name} is readable by others ({oct(mode)})"
    source = (EXAMPLE_PROJECT / "example_site" / "settings.py").read_text()
    assert first["secret_key"] not in source
    assert "insecure" not in first["secret_key"]


def test_a_configured_secret_key_wins(example_env, tmp_path):
    chosen = "a-secret-key-from-the-environment-" + uuid.uuid4().hex
    assert _settings_of(example_env, tmp_path, DJANGO_SECRET_KEY=chosen)["secret_key"] == chosen
    assert not (tmp_path / "django-secret-key").exists()


def test_the_emulator_keeps_its_account_in_the_var_directory(example_env, tmp_path):
    assert _settings_of(example_env, tmp_path)["state_file"] == str(tmp_path / "stripe-emulator.json")


def test_the_demo_setup_installs_the_package_once():
    """`scripts/demo` installs the package editable in ensure_venv; the example's requirements must not again."""
    requirements = (EXAMPLE_PROJECT / "requirements.txt").read_text().splitlines()
    active = [line.split("#", 1)[0].strip() for line in requirements]
    active = [line for line in active if line]
    for line in active:
        assert not line.startswith(("-e", "--editable", ".", "/")), line
        assert "django-skillswap-payments" not in line.lower(), line
    common = (REPO_ROOT / "scripts" / "_common.sh").read_text()
    assert len(re.findall(r'pip install[^\n]*-e "\$ROOT', common)) == 1


def test_the_readme_says_how_to_change_the_demo_port():
    readme = (REPO_ROOT / "README.md").read_text()
    demo_line = next(line for line in readme.splitlines() if line.startswith("scripts/demo"))
    assert "DEMO_PORT" in demo_line
