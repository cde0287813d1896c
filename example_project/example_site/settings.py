"""Settings of the example site: a plain Django project that uses django-skillswap-payments.

Configuration comes from the environment or from ``example_project/.env``.  With
nothing configured it runs on embedded defaults: a local MongoDB wire server
(started by ``manage.py rundemo``) and the Stripe emulator mounted at
``/stripe-emulator/``.  Set ``STRIPE_SECRET_KEY`` (and the publishable key and
webhook secret) to use real Stripe test mode instead.

Debug mode is off unless ``DJANGO_DEBUG=1``.  ``SECRET_KEY`` comes from
``DJANGO_SECRET_KEY``, or is generated once per machine and kept in the var
directory (``DEMO_VAR_DIR``, default ``example_project/var/``), like the demo's
data; so is the emulator's secret key.
"""

import os
from datetime import timedelta
from pathlib import Path

import django
from dotenv import load_dotenv

from .machine_secrets import machine_secret

BASE_DIR = Path(__file__).resolve().parent.parent
FRONTEND_EXPORT_DIR = BASE_DIR / "frontend" / "out"

load_dotenv(BASE_DIR / ".env")

VAR_DIR = Path(os.environ.get("DEMO_VAR_DIR") or BASE_DIR / "var")
# Off by default: the debug pages list every URL and show settings to whoever sees an error.
DEBUG = os.environ.get("DJANGO_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or machine_secret(VAR_DIR / "django-secret-key")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
DEMO_PORT = int(os.environ.get("DEMO_PORT", "8000"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_skillswap_payments",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Django's users (and the demo's notifications) live in SQL; payments live in MongoDB.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
# No STATIC_ROOT: WhiteNoise serves app static files from their apps (WHITENOISE_USE_FINDERS),
# so the demo needs no collectstatic step.
# The Next.js static export is served from the site root, on the API's origin.
WHITENOISE_ROOT = FRONTEND_EXPORT_DIR if FRONTEND_EXPORT_DIR.is_dir() else None
WHITENOISE_INDEX_FILE = True
WHITENOISE_AUTOREFRESH = DEBUG
# App static files (DRF's browsable API) are served without collectstatic, debug or not.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
}

# --- Payments --------------------------------------------------------------
# Real Stripe test mode when the host provides keys; otherwise the emulator that
# ships with the package, mounted on this same server.
STRIPE_EMULATED = not os.environ.get("STRIPE_SECRET_KEY")
STRIPE_EMULATOR_PREFIX = "stripe-emulator"
STRIPE_EMULATOR_WEBHOOK_SECRET = "whsec_demo_emulator_signing_secret"
# The emulator keeps its account here across restarts, as Stripe would.
STRIPE_EMULATOR_STATE_FILE = VAR_DIR / "stripe-emulator.json"
DEMO_BASE_URL = os.environ.get("DEMO_BASE_URL", f"http://127.0.0.1:{DEMO_PORT}")

SKILLSWAP_PAYMENTS = {
    "PREMIUM_PRICE": os.environ.get("PREMIUM_PRICE", "9.99"),
    "CURRENCY": "usd",
    # The premium Checkout page takes promotion codes (rundemo seeds two in the emulator).
    "ALLOW_PROMOTION_CODES": True,
    # Email receipts for payers and tip recipients, written to files (see EMAIL_DIR below).
    "RECEIPTS": True,
    # Tips reach their recipients through Stripe Connect; the platform keeps 10 % (at least $0.30).
    # Tips to members who have not set up payouts yet are held and paid out once they have.
    "CONNECT": {
        "ENABLED": True,
        "PLATFORM_FEE_PERCENT": "10",
        "MINIMUM_FEE_MINOR": 30,
        "REQUIRE_ONBOARDED_RECIPIENT": False,
    },
    # The buyer picks one of these on the premium and tip pages; usd keeps the keys above.
    "CURRENCIES": ["usd", "eur", "jpy"],
    "PREMIUM_PRICES": {"eur": "8.99", "jpy": "1500"},
    "TIP_LIMITS": {"eur": ["1.00", "900.00"], "jpy": ["100", "150000"]},
}

# Mail is written to files instead of being sent; the demo's receipts page reads them.
EMAIL_DIR = VAR_DIR / "emails"
DEFAULT_FROM_EMAIL = "SkillSwap <receipts@skillswap.example>"
if django.VERSION >= (6, 1):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(EMAIL_DIR)},
        }
    }
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(EMAIL_DIR)
if STRIPE_EMULATED:
    SKILLSWAP_PAYMENTS.update(
        {
            # The mounted emulator answers this key only: no one else can list or expire sessions.
            "STRIPE_SECRET_KEY": machine_secret(
                VAR_DIR / "stripe-emulator-key", prefix="sk_test_emulator_"
            ),
            "STRIPE_PUBLISHABLE_KEY": "pk_test_emulator",
            "STRIPE_WEBHOOK_SECRET": STRIPE_EMULATOR_WEBHOOK_SECRET,
            "STRIPE_API_BASE": f"{DEMO_BASE_URL}/{STRIPE_EMULATOR_PREFIX}",
        }
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django_skillswap_payments": {"handlers": ["console"], "level": "INFO"},
        "demo": {"handlers": ["console"], "level": "INFO"},
    },
}
