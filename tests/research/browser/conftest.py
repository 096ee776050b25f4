"""The browser fixtures of tests/browser, for the research pages (package scope here too,
so the browser closes before the rest of tests/research runs)."""

from tests.browser.conftest import chromium, context, page  # noqa: F401
