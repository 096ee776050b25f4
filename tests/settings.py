"""Test settings: the production settings with test switches flipped.

Tests run on PostgreSQL when DATABASE_URL is set (CI always sets it), with
migrations; Celery runs eagerly unless a test asks for the real worker.
"""

import os

os.environ.setdefault("DEBUG", "1")

from belonging.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
SECURE_SSL_REDIRECT = False
MEDIA_ROOT = BASE_DIR / "test-media"  # noqa: F405
