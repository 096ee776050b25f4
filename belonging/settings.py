"""One settings file, read from the environment (see docs/configuration.md).

Defaults give the embedded demo: SQLite and in-process tasks. Production sets
DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL and the
pseudonym key material; the app refuses to start without a secret key.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def envint(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envsecret(name, default=""):
    """A secret from NAME, or from the file named by NAME_FILE (docker secrets)."""
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from None
    return os.environ.get(name, default).strip()


def envrange(name, default, lo, hi):
    value = envint(name, default)
    if not lo <= value <= hi:
        raise ImproperlyConfigured(f"{name} must be between {lo} and {hi}, not {value}")
    return value


def envlist(name, default):
    value = os.environ.get(name, "")
    return [v.strip() for v in value.split(",") if v.strip()] or default


DEBUG = envbool("DEBUG", False)

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it (or SECRET_KEY_FILE), or set DEBUG=1 for the demo."
        )
    SECRET_KEY = "demo-only-insecure-secret-key-do-not-use-in-production-0123456789"

# Key material for pseudonyms (HMAC-SHA256). Never stored in the database; each
# series and each research agreement derives its own key from it.
PSEUDONYM_KEY = envsecret("PSEUDONYM_KEY")
if not PSEUDONYM_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "PSEUDONYM_KEY is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and keep it safe."
        )
    PSEUDONYM_KEY = "demo-only-pseudonym-key-material"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "accounts.apps.AdminConfig",  # the admin site asks for the second factor (accounts/)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not a CDN
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "surveys",
    "analytics",
    "research",
]

MIDDLEWARE = [
    "belonging.middleware.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "belonging.middleware.security_headers_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lock-out into the login page's message
]

ROOT_URLCONF = "belonging.urls"
WSGI_APPLICATION = "belonging.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'belonging.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, docs/security.md): failures count per username *and*
# address together, so one person's typos never lock out a school behind one address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "surveys.ratelimit.client_address"  # honours BELONGING_PROXY_HOPS
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Two-factor authentication (django-otp, TOTP): optional, offered to leaders, district
# admins, researchers and staff; the admin site asks for it from whoever has a device.
OTP_TOTP_ISSUER = "belonging"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Research export files (written by the worker, served by web: both must see it). Never
# serve this directory from the web server; downloads go through the app's checks.
BELONGING_EXPORT_DIR = Path(os.environ.get("BELONGING_EXPORT_DIR", "") or MEDIA_ROOT / "exports")

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: without a broker, tasks run in-process (the embedded demo).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 900)
CELERY_BEAT_SCHEDULE = {
    "close-sessions-at-end-of-day": {
        "task": "surveys.tasks.close_expired_sessions",
        "schedule": 300.0,
    },
    "delete-expired-research-exports": {
        "task": "research.tasks.delete_expired_exports",
        "schedule": 900.0,
    },
    "resend-research-export-jobs": {
        "task": "research.tasks.resend_export_jobs",
        "schedule": 60.0,
    },
    # Raw data past each series' retention period (surveys/lifecycle.py).
    "apply-retention-daily": {
        "task": "surveys.tasks.apply_retention",
        "schedule": 86400.0,
    },
    # Publish requests the broker did not take (analytics/outbox.py).
    "resend-publish-runs": {
        "task": "analytics.tasks.resend_publish_runs",
        "schedule": 60.0,
    },
}
# With acks_late, Redis hands a task whose worker died (SIGKILL, lost machine) to
# another worker once it has gone unacknowledged for visibility_timeout seconds; live
# workers look for such tasks every 10 s (kombu's default is every 100 s). 2400 s is
# above the publishing tasks' hard limit (2000 s), so a running part is never handed
# out twice, and below the outboxes' one-hour grace (analytics/outbox.py,
# research/jobs.py), so redelivery comes first. An export running past 2400 s (its
# limit is 3600 s) is delivered once more and that copy finds the job taken
# (research/jobs.claim_job). docs/operations.md, "Scaling" and "Monitoring".
VISIBILITY_TIMEOUT_DEFAULT = 2400
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", VISIBILITY_TIMEOUT_DEFAULT),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "surveys.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "belonging API",
    "DESCRIPTION": "Read published, suppressed snapshots; submit student responses.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "belonging.api_schema.document_auth_errors",  # 401/403 on every protected operation
    ],
}

# Privacy defaults (DESIGN.md): minimum cell size, and the bounds a district may set.
BELONGING_MIN_K = 5
BELONGING_MAX_K = 30
BELONGING_DEFAULT_K = envrange("BELONGING_DEFAULT_K", 10, BELONGING_MIN_K, BELONGING_MAX_K)
# Trusted reverse proxies in front of the app (each appends to X-Forwarded-For); the
# code-entry rate limit keys on the address the outermost trusted proxy saw.
BELONGING_PROXY_HOPS = envrange("BELONGING_PROXY_HOPS", 0, 0, 5)
# Sessions close themselves at this local hour if the teacher forgets.
BELONGING_SCHOOL_DAY_ENDS = envrange("BELONGING_SCHOOL_DAY_ENDS", 17, 0, 23)

# Production hardening; `manage.py check --deploy` is clean with DEBUG=0.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A strict Content Security Policy on every response (django-csp, docs/security.md):
# no inline script or style anywhere; data reaches scripts through json_script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# JSON lines with a request id (belonging/logs.py); never answers or identifiers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "belonging.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "belonging.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Replaces Django's own plain-text handlers, so every line is JSON.
        "django": {"level": "INFO", "handlers": []},
        "django.server": {"level": "INFO", "handlers": [], "propagate": True},
        # SQL parameters hold answers and pseudonyms: never logged, whatever LOG_LEVEL says.
        "django.db.backends": {"level": "INFO"},
    },
}
