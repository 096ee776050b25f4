"""A published document kept as written.

The snapshot tables' JSON (a school's dashboard document, what the audit reads, its
report) is written once, read whole by Python and never searched inside by SQL. On
PostgreSQL it is stored as `json` (the text, checked to be JSON) rather than `jsonb`
(parsed into a binary tree): writing a school's part of about 1 MB then skips parsing
it into jsonb, and reading it skips printing it back out. docs/performance.md
("Writing a part") has the measurement. Other databases store JSONField as usual.
"""

from django.db import models

from . import jsontext


class DocumentField(models.JSONField):
    """A JSONField stored as PostgreSQL `json`: for documents never queried inside."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql" or value is None or hasattr(value, "as_sql"):
            return super().get_db_prep_value(value, connection, prepared)
        # The text itself: Django's adapter would cast it to jsonb (parsing it) first.
        default = self.encoder().default if self.encoder else None
        return jsontext.dumps(value, default=default).decode()

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):
            return value  # psycopg2 has decoded the json type already
        return super().from_db_value(value, expression, connection)
