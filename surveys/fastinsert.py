"""The submission's fast path on PostgreSQL: one statement that stores a validated
response only if everything that decides whether it may be stored still holds.

    INSERT INTO response (...) SELECT <values>, <ids and year level from the session>
    FROM session JOIN wave JOIN series JOIN class
    WHERE the session has this public id, its wave is open, the session is open or
          closed less than SUBMIT_GRACE ago, the series still has the settings the
          response was validated against, [linked:] the pseudonym has not opted out,
          [linked, active consent:] the pseudonym has consent
    ON CONFLICT (client_id) DO NOTHING RETURNING 1

Outside a transaction the statement is its own transaction: one round trip, no
BEGIN/COMMIT. When it stores nothing (a repeat, a closed session or wave, a refusal,
changed settings) surveys.submission's reference path finds out why and answers.

Anonymous series with active consent are not handled here: their per-class cap takes a
row lock (surveys.consent.claim_anonymous_place), so they take the reference path.
"""

import json
import weakref
from contextlib import nullcontext
from functools import lru_cache

from django.db import DatabaseError, IntegrityError, connection, transaction

from .models import ANSWER_COLUMNS, ClassGroup, OptOut, Response, Series, Session, Wave

UNDEFINED_PREPARED_STATEMENT = "26000"
# Response columns filled from the joined rows rather than from the request.
FROM_SESSION = {
    "wave_id": "s.wave_id", "session_id": "s.id", "class_group_id": "s.class_group_id",
    "school_id": "cg.school_id", "year_level": "cg.year_level",
}


def applies(rules):
    if connection.vendor != "postgresql":
        return False
    return rules.linked or not rules.active_consent


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _col(model, name):
    return connection.ops.quote_name(model._meta.get_field(name).column)


class _Placeholders:
    """Numbered parameters ($1, $2, ...) of the prepared statement, in order."""

    def __init__(self):
        self.n = 0

    def __call__(self, cast=None):
        self.n += 1
        return f"CAST(${self.n} AS {cast})" if cast else f"${self.n}"


@lru_cache(maxsize=4)
def statement(linked, active):
    """(name, PREPARE text, number of parameters, the Response fields whose values are
    parameters, in order)."""
    fields = [f for f in Response._meta.concrete_fields if not f.primary_key]
    own = [f for f in fields if f.attname not in FROM_SESSION]
    p = _Placeholders()
    select = ", ".join(FROM_SESSION.get(f.attname) or p(f.db_type(connection)) for f in fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)

    def optout():
        return (f"SELECT 1 FROM {_table(OptOut)} o WHERE o.{_col(OptOut, 'series')} = se.id "
                f"AND o.{_col(OptOut, 'pseudonym')} = {p()} AND o.{_col(OptOut, 'kind')} = {p()}")

    where = [
        f"s.{_col(Session, 'public_id')} = {p()}",
        f"w.{_col(Wave, 'status')} = {p()}",
        f"(s.{_col(Session, 'status')} = {p()} OR s.{_col(Session, 'closed_at')} >= {p()})",
        f"se.id = {p()}", f"se.{_col(Series, 'instrument')} = {p()}",
        f"se.{_col(Series, 'mode')} = {p()}", f"se.{_col(Series, 'consent_mode')} = {p()}",
        f"se.{_col(Series, 'languages')} = {p('jsonb')}",
        f"se.{_col(Series, 'demographics')} = {p('jsonb')}",
    ]
    if linked:
        where.append(f"NOT EXISTS ({optout()})")
    if linked and active:
        where.append(f"EXISTS ({optout()})")
    body = (
        f"INSERT INTO {_table(Response)} ({columns}) SELECT {select} "
        f"FROM {_table(Session)} s "
        f"JOIN {_table(Wave)} w ON w.id = s.{_col(Session, 'wave')} "
        f"JOIN {_table(Series)} se ON se.id = w.{_col(Wave, 'series')} "
        f"JOIN {_table(ClassGroup)} cg ON cg.id = s.{_col(Session, 'class_group')} "
        f"WHERE {' AND '.join(where)} "
        f"ON CONFLICT ({_col(Response, 'client_id')}) DO NOTHING RETURNING 1"
    )
    name = f"belonging_submit_{int(linked)}{int(active)}"
    return name, f"PREPARE {name} AS {body}", p.n, own


def _params(own, public_id, rules, data, now, grace):
    given = {
        **dict.fromkeys(ANSWER_COLUMNS), "client_id": data.client_id, "language": data.language,
        "gender": data.demographics.get("gender", ""),
        "home_language": data.demographics.get("home_language", ""),
        "pseudonym": data.pseudonym, "submitted_at": now, **data.values,
    }
    params = [given[f.attname] if f.attname in given
              else f.get_db_prep_save(f.get_default(), connection) for f in own]
    params += [
        public_id, Wave.Status.OPEN.value, Session.Status.OPEN.value, now - grace,
        rules.series_id, rules.instrument_id, rules.mode, rules.consent_mode,
        json.dumps(list(rules.languages)), json.dumps(list(rules.demographics)),
    ]
    if rules.linked:
        params += [data.pseudonym, OptOut.Kind.OPT_OUT.value]
        if rules.active_consent:
            params += [data.pseudonym, OptOut.Kind.CONSENT.value]
    return params


# Statements prepared on each database connection (prepared statements live as long as
# their connection; Django reconnects after CONN_MAX_AGE or an error).
_prepared = weakref.WeakKeyDictionary()


def _execute(cursor, linked, active, params):
    name, prepare, count, _own = statement(linked, active)
    raw = connection.connection
    done = _prepared.setdefault(raw, set())
    if name not in done:
        cursor.execute(prepare)
        done.add(name)
    cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * count)})", params)
    return cursor.fetchone() is not None


def insert(public_id, rules, data, now, grace):
    """True when this statement stored the response; False when it stored nothing
    (the caller's reference path then says why, or acknowledges a repeat). Inside a
    transaction it runs in a savepoint, so a refusal leaves the transaction usable."""
    _name, _prepare, _count, own = statement(rules.linked, rules.active_consent)
    params = _params(own, public_id, rules, data, now, grace)
    block = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with block, connection.cursor() as cursor:
            return _execute(cursor, rules.linked, rules.active_consent, params)
    except IntegrityError:  # the pseudonym already answered in this wave
        return False
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) != UNDEFINED_PREPARED_STATEMENT:
            raise
        _prepared.pop(connection.connection, None)  # e.g. DISCARD ALL by a pooler
        return False
