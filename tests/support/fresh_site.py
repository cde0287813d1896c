"""A fresh Django site running the built wheel, as a user who follows docs/quickstart.md has it.

The parts, each usable alone::

    wheel = build_wheel(workdir)                      # from the checkout's tracked files
    python = make_virtualenv(workdir / "venv", wheel)  # the wheel[testing] + gunicorn
    site = FreshSite.start_project(python, workdir / "site")
    site.configure(payments={...}, mongodb_uri=...)    # settings.py and urls.py only
    site.manage("migrate")
    with site.gunicorn(port, workers=3) as server: ...

Dependencies come from a wheelhouse (``SKILLSWAP_WHEELHOUSE``, by default a directory in
the user's cache) that is filled from the package index the first time, or whenever it no
longer satisfies the wheel's requirements; later runs install offline.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Not "site": startproject refuses names of existing Python modules.
PROJECT_NAME = "mysite"
# Keep in step with requirements-dev.txt.
SERVER_REQUIREMENT = "gunicorn>=23"
SERVER_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
# Environment variables of the test session that must not leak into the site's processes.
SESSION_ONLY_ENV = (
    "DJANGO_SETTINGS_MODULE",
    "PYTHONPATH",
    "PYTEST_ADDOPTS",
    "VIRTUAL_ENV",
    "MONGODB_URI",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def has_checkout() -> bool:
    return (ROOT / "django_skillswap_payments").is_dir() and (ROOT / ".git").exists()


def build_wheel(workdir: Path) -> Path:
    """The wheel of the checkout's tracked (and new, unignored) files.

    Built from a copy so that the checkout gets no build/ or *.egg-info, and a stale one
    there cannot change what the wheel holds.
    """
    source = workdir / "source"
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT
    ).stdout
    for relative in filter(None, listed.split("\0")):
        if (ROOT / relative).is_file():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, source / relative)
    outdir = workdir / "dist"
    isolation = ["--no-isolation"] if _has_build_backend() else []
    run([sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", str(outdir), str(source)])
    (wheel,) = outdir.glob("*.whl")
    return wheel


def _has_build_backend() -> bool:
    import importlib.metadata
    import importlib.util

    if not (importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel")):
        return False
    return int(importlib.metadata.version("setuptools").split(".")[0]) >= 77


def wheelhouse() -> Path:
    configured = os.environ.get("SKILLSWAP_WHEELHOUSE")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "django-skillswap-payments" / "fresh-site-wheels"


def make_virtualenv(venv: Path, wheel: Path, extras: str = "testing") -> Path:
    """A new virtualenv of this interpreter with ``wheel[extras]`` and gunicorn; returns its python."""
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    requirements = [f"{wheel}[{extras}]", SERVER_REQUIREMENT]
    # This environment's pip installs into the new one: quicker than bootstrapping a pip there.
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    house = wheelhouse()
    offline = [*pip, "install", "--quiet", "--no-compile", "--no-index", "--find-links", str(house)]
    if subprocess.run([*offline, *requirements], capture_output=True).returncode != 0:
        house.mkdir(parents=True, exist_ok=True)
        run([*pip, "wheel", "--quiet", "--wheel-dir", str(house), *requirements])
        for own in house.glob("django_skillswap_payments-*.whl"):
            own.unlink()
        run([*offline, *requirements])
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SESSION_ONLY_ENV}
    env.update(extra)
    return env


class ServerProcess:
    """A server started in a process group of its own; ``stop()`` ends that group, by its id."""

    def __init__(self, command: list[str], *, cwd: Path, log: Path, env: dict[str, str]):
        self.command, self.log = command, log
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = SERVER_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output()
            if text in output:
                return output
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.command} never printed {text!r}:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            # The group's id is the pid of the process started here (start_new_session).
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Gunicorn's workers leave with their arbiter; make sure none outlived it.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_emulator(python: Path, *, workdir: Path, webhook_url: str, webhook_secret: str,
                   api_key: str) -> tuple[ServerProcess, str]:
    """The installed package's Stripe emulator, from its command line; returns it and its URL."""
    emulator = ServerProcess(
        [str(python), "-m", "django_skillswap_payments.testing.emulator", "--port", "0",
         "--webhook", webhook_url, "--webhook-secret", webhook_secret, "--api-key", api_key,
         "--backoff", "0.2"],
        cwd=workdir, log=workdir / "emulator.log", env=clean_env(PYTHONUNBUFFERED="1"),
    )
    try:
        output = emulator.wait_for_output("Delivering webhooks to")
    except BaseException:
        emulator.stop()
        raise
    line = next(line for line in output.splitlines() if "listening on" in line)
    return emulator, line.rsplit(" ", 1)[1]


@dataclass
class FreshSite:
    """A project made by ``django-admin startproject`` in the new virtualenv."""

    python: Path
    directory: Path

    @classmethod
    def start_project(cls, python: Path, directory: Path) -> FreshSite:
        directory.mkdir(parents=True)
        django_admin = python.parent / "django-admin"
        run([str(django_admin), "startproject", PROJECT_NAME, str(directory)], env=clean_env())
        return cls(python, directory)

    @property
    def settings_file(self) -> Path:
        return self.directory / PROJECT_NAME / "settings.py"

    @property
    def urls_file(self) -> Path:
        return self.directory / PROJECT_NAME / "urls.py"

    def configure(self, payments: dict[str, Any]) -> None:
        """The edits docs/quickstart.md asks for, and nothing else."""
        settings = self.settings_file.read_text()
        settings += (
            "\n# django-skillswap-payments, as docs/quickstart.md sets it up\n"
            'INSTALLED_APPS += ["rest_framework", "django_skillswap_payments"]\n'
            f"SKILLSWAP_PAYMENTS = {payments!r}\n"
            "REST_FRAMEWORK = {\n"
            '    "DEFAULT_AUTHENTICATION_CLASSES": [\n'
            '        "rest_framework.authentication.SessionAuthentication",\n'
            '        "rest_framework.authentication.BasicAuthentication",\n'
            "    ],\n"
            "}\n"
        )
        self.settings_file.write_text(settings)
        urls = self.urls_file.read_text()
        assert "from django.urls import path\n" in urls, urls
        urls = urls.replace("from django.urls import path\n", "from django.urls import include, path\n")
        urls = urls.replace(
            "urlpatterns = [\n",
            'urlpatterns = [\n    path("api/payments/", include("django_skillswap_payments.urls")),\n',
        )
        self.urls_file.write_text(urls)

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.python), "manage.py", *args], cwd=self.directory, env=clean_env())

    def gunicorn(self, port: int, workers: int) -> ServerProcess:
        server = ServerProcess(
            [str(self.python.parent / "gunicorn"), "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", f"{PROJECT_NAME}.wsgi"],
            cwd=self.directory, log=self.directory / "gunicorn.log", env=clean_env(),
        )
        try:
            server.wait_for_output(f"Listening at: http://127.0.0.1:{port}")
            # Every worker has booted once each has said so.
            deadline = time.monotonic() + SERVER_TIMEOUT
            while server.output().count("Booting worker") < workers:
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.05)
        except BaseException:
            server.stop()
            raise
        return server


@dataclass
class HTTPAnswer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SiteClient:
    """HTTP requests to the site, as a browser of a signed-in user sends them when given a session.

    A session cookie rather than HTTP basic authentication: basic authentication hashes the
    password on every request, which with Django's default hasher costs seconds on a slow machine.
    """

    def __init__(self, base_url: str, session_key: str | None = None):
        self.base_url = base_url
        self.headers: dict[str, str] = {}
        if session_key is not None:
            csrf_token = secrets.token_hex(16)
            self.headers["Cookie"] = f"sessionid={session_key}; csrftoken={csrf_token}"
            self.headers["X-CSRFToken"] = csrf_token

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> HTTPAnswer:
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return HTTPAnswer(response.status, response.headers.get("Content-Type", ""), response.read())
        except urllib.error.HTTPError as error:
            return HTTPAnswer(error.code, error.headers.get("Content-Type", ""), error.read())

    def get(self, path: str) -> HTTPAnswer:
        return self.request("GET", path)

    def post_json(self, path: str, data: Any) -> HTTPAnswer:
        return self.post_raw(path, json.dumps(data).encode())

    def post_raw(self, path: str, body: bytes, content_type: str = "application/json") -> HTTPAnswer:
        return self.request("POST", path, body, {"Content-Type": content_type})
