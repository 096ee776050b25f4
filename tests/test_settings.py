"""Production settings and deployment files.

Each settings test starts `manage.py` in a subprocess with belonging.settings (the real
production module, not tests.settings) and an environment built from scratch, because
settings are read once at import time and pytest's own process already has them.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

# Everything belonging/settings.py reads, plus the *_FILE forms of the secrets.
SETTINGS_VARIABLES = {
    "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "PSEUDONYM_KEY", "PSEUDONYM_KEY_FILE",
    "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "DB_CONN_MAX_AGE", "REDIS_URL",
    "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_SOFT_TIME_LIMIT",
    "CELERY_TASK_TIME_LIMIT", "CELERY_VISIBILITY_TIMEOUT", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "STATIC_ROOT",
    "MEDIA_ROOT", "TIME_ZONE", "LOG_LEVEL", "BELONGING_DEFAULT_K",
    "BELONGING_SCHOOL_DAY_ENDS",
    "BELONGING_PROXY_HOPS",
    "BELONGING_EXPORT_DIR",
}


def production_env(tmp_path, **overrides):
    """A production environment; an override of None removes that variable."""
    env = {
        key: value
        for key, value in os.environ.items()
        # pytest-django exports DJANGO_SETTINGS_MODULE=tests.settings, and tests/settings.py
        # sets DEBUG=1 in this process: neither may reach the subprocess.
        if key != "DJANGO_SETTINGS_MODULE" and key not in SETTINGS_VARIABLES
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        PSEUDONYM_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="belonging.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def settings_of(env, *names):
    """{name: repr(value)} of Django settings as the production module computes them, read
    in one `manage.py shell` (each subprocess imports Django and the project again)."""
    code = ("import json; from django.conf import settings; "
            f"print(json.dumps({{n: repr(getattr(settings, n)) for n in {list(names)!r}}}))")
    result = manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def setting(env, name):
    """The value of one Django setting as the production module computes it."""
    return settings_of(env, name)[name]


# --- settings ------------------------------------------------------------------------


def test_deploy_check_is_clean_in_production(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr
    assert "security." not in result.stdout + result.stderr  # e.g. security.W004


def test_refuses_to_start_without_secret_key(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY=None), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_empty_secret_key_counts_as_missing(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY="   "), "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_refuses_to_start_without_pseudonym_key(tmp_path):
    result = manage(production_env(tmp_path, PSEUDONYM_KEY=None), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PSEUDONYM_KEY is not set" in result.stderr


def test_secret_key_file_is_read_and_wins(tmp_path):
    key = secrets.token_urlsafe(60)
    key_file = tmp_path / "secret_key"
    key_file.write_text(key + "\n")  # editors add a final newline; it is stripped
    env = production_env(tmp_path, SECRET_KEY="from-the-plain-variable",
                         SECRET_KEY_FILE=str(key_file))
    assert setting(env, "SECRET_KEY") == repr(key)

    # ...and it is enough on its own: no SECRET_KEY needed.
    env = production_env(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    assert setting(env, "SECRET_KEY") == repr(key)


def test_pseudonym_key_file_is_read(tmp_path):
    key = secrets.token_hex(32)
    key_file = tmp_path / "pseudonym_key"
    key_file.write_text(key + "\n")
    env = production_env(tmp_path, PSEUDONYM_KEY=None, PSEUDONYM_KEY_FILE=str(key_file))
    assert setting(env, "PSEUDONYM_KEY") == repr(key)


def test_missing_secret_file_stops_start_up_and_names_the_path(tmp_path):
    missing = tmp_path / "no-such-secret"
    result = manage(production_env(tmp_path, SECRET_KEY_FILE=str(missing)), "check")
    assert result.returncode != 0
    assert str(missing) in result.stderr


def test_bad_boolean_is_a_clear_error(tmp_path):
    result = manage(production_env(tmp_path, DEBUG="maybe"), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG must be a boolean" in result.stderr
    assert "'maybe'" in result.stderr


def test_bad_number_is_a_clear_error(tmp_path):
    result = manage(production_env(tmp_path, BELONGING_DEFAULT_K="ten"), "check")
    assert result.returncode != 0
    assert "BELONGING_DEFAULT_K must be a whole number" in result.stderr


def test_production_defaults(tmp_path):
    found = settings_of(production_env(tmp_path), "DEBUG", "SECURE_SSL_REDIRECT",
                        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS")
    assert found["DEBUG"] == "False"
    assert found["SECURE_SSL_REDIRECT"] == "True"
    assert found["SESSION_COOKIE_SECURE"] == "True"
    assert found["CSRF_COOKIE_SECURE"] == "True"
    assert int(found["SECURE_HSTS_SECONDS"]) >= 31536000


def test_production_security_settings(tmp_path):
    """docs/security.md: the CSP, lock-out and log settings as production computes them."""
    found = settings_of(production_env(tmp_path), "CONTENT_SECURITY_POLICY",
                        "AXES_LOCKOUT_PARAMETERS", "X_FRAME_OPTIONS",
                        "SECURE_REFERRER_POLICY", "LOGGING")
    policy = found["CONTENT_SECURITY_POLICY"]
    for directive in ("'default-src': [\"'self'\"]", "'script-src': [\"'self'\"]",
                      "'style-src': [\"'self'\"]", "'frame-ancestors': [\"'none'\"]"):
        assert directive in policy, directive
    assert "unsafe" not in policy
    assert found["AXES_LOCKOUT_PARAMETERS"] == "[['username', 'ip_address']]"
    assert found["X_FRAME_OPTIONS"] == "'DENY'"
    assert found["SECURE_REFERRER_POLICY"] == "'same-origin'"
    assert "JsonFormatter" in found["LOGGING"]


def test_every_settings_variable_is_known_to_this_test():
    """A variable added to settings.py must be added here, to docs/configuration.md
    and to .env.example (see the next test)."""
    source = (REPO / "belonging" / "settings.py").read_text()
    read = set(re.findall(r"""(?:environ\.get|environ\[|env\w+\()\(?\s*["']([A-Z_]+)["']""",
                          source))
    read |= {f"{name}_FILE" for name in re.findall(r"""envsecret\(\s*["']([A-Z_]+)["']""",
                                                  source)}
    assert read == SETTINGS_VARIABLES


def test_every_settings_variable_is_documented():
    docs = (REPO / "docs" / "configuration.md").read_text()
    example = (REPO / ".env.example").read_text()
    example_names = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    for name in sorted(SETTINGS_VARIABLES):
        assert f"`{name}`" in docs, f"{name} is missing from docs/configuration.md"
    # .env.example holds what an operator sets; compose fixes the rest itself.
    fixed_by_compose = {"DEBUG", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
                        "STATIC_ROOT", "MEDIA_ROOT", "BELONGING_EXPORT_DIR",
                        "SECRET_KEY_FILE", "PSEUDONYM_KEY_FILE"}
    missing = SETTINGS_VARIABLES - fixed_by_compose - example_names
    assert not missing, f"missing from .env.example: {sorted(missing)}"


# --- docker-compose.yml and Dockerfile ----------------------------------------------------


def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_services_and_images():
    services = compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        assert services[name]["environment"]["DEBUG"] == "0"


def test_compose_commands():
    services = compose()["services"]
    web = " ".join(services["web"]["command"])
    # Migrations, static files and instruments before gunicorn starts, in that order.
    steps = ["manage.py migrate", "manage.py collectstatic", "manage.py load_instruments",
             "gunicorn belonging.wsgi"]
    positions = [web.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), web
    assert "exec gunicorn" in web  # gunicorn is PID 1's child, receives SIGTERM
    assert services["worker"]["command"][:4] == ["celery", "-A", "belonging", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "belonging", "beat"]
    assert 2 <= int(services["web"]["environment"]["WEB_CONCURRENCY"]
                    .removeprefix("${WEB_CONCURRENCY:-").removesuffix("}")) <= 4


def test_compose_healthchecks():
    services = compose()["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]

    web_test = services["web"]["healthcheck"]["test"]
    assert web_test[:3] == ["CMD", "python", "-c"]
    script = web_test[3]
    assert "http://127.0.0.1:8000/health/ready/" in script
    assert "urllib" in script and "curl" not in script
    compile(script, "web-healthcheck", "exec")  # valid Python
    assert "$" not in script  # compose would try to interpolate it


def test_compose_dependencies_wait_for_health():
    services = compose()["services"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        for backing in ("postgres", "redis"):
            assert depends[backing]["condition"] == "service_healthy", (name, backing)


def test_compose_volumes():
    data = compose()
    assert {"pgdata", "static"} <= set(data["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in data["services"]["postgres"]["volumes"]
    assert "static:/app/staticfiles" in data["services"]["web"]["volumes"]


def test_compose_requires_the_secrets():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        for secret in ("SECRET_KEY", "PSEUDONYM_KEY"):
            assert env[secret].startswith(f"${{{secret}:?"), env[secret]
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
        assert env["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?")
    # No secret value is written into the file itself: each one comes from .env.
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"KEY|PASSWORD|SECRET", key):
                assert str(value).startswith("${"), (key, value)


def test_compose_web_published_on_localhost_only():
    ports = compose()["services"]["web"]["ports"]
    assert all(str(port).startswith("127.0.0.1:") for port in ports)


def test_dockerfile():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, flags=re.MULTILINE)
    assert "pip install ." in text
    assert re.search(r"^EXPOSE 8000$", text, flags=re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv"} <= set(ignored)
