"""Settings for benchmarks/submit.py: the production settings, plus a URLconf with the
baseline endpoint. Everything else (DEBUG=0, middleware, database connection reuse) is
what production runs; submit.py supplies the environment (throw-away keys, the benchmark
database, SECURE_SSL_REDIRECT=0 because the load comes over plain HTTP on loopback).
"""

from belonging.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"

# Rate limiting (surveys/ratelimit.py) guards typing an access code on the join page, not
# the submission API, so the benchmark's traffic never meets it. Should a limit ever be
# put on the submission path, the benchmark is the school-network case: every request
# comes from one address (127.0.0.1), as a whole school does behind its router.
BELONGING_PROXY_HOPS = 0
