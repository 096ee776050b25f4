"""Rate limiting for typing an access code. docs/privacy.md ("Access codes") shows why
these numbers make guessing a live code take years while a whole school behind one
address can join at once.

Only *wrong guesses that could have been right* are counted: a well-formed code
(CODE_LENGTH characters of CODE_ALPHABET) that no session has ever had, counted once
per code and client network. Successful joins, malformed input, codes of closed
sessions, and the same wrong code typed again are not counted: none of them tells a
guesser anything new, and they are what a class makes when the code on the board has
a typo.

Budgets, per fixed one-hour window (all adjustable with settings.BELONGING_CODE_LIMITS):

- per client network: 5 wrong codes, plus 3 for each distinct live code joined from that
  network in the window. A school earns room for its students' typos by their joins;
  each code earns that credit for at most 5 networks, so a guesser who knows one live
  code cannot multiply it over many addresses;
- per code prefix (first 4 characters): 5 wrong codes from anywhere, against someone
  who saw part of a code and tries the rest;
- global: 30 wrong codes not covered by credit. When it is spent, networks without
  credit left wait for the next window; schools whose students are joining carry on.

A refused attempt gets the 429 page whatever code it carries, a live code too:
answering live codes differently would tell a guesser which codes are live.

Cache keys hold keyed digests, never an address or a code, and the log never names
either.
"""

import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import translation
from redis.exceptions import RedisError

from .models import CODE_ALPHABET, CODE_LENGTH, Session, Wave

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
TTL = WINDOW_SECONDS + 60
PREFIX_LENGTH = 4
DEFAULT_LIMITS = {
    "per_network": 5,
    "credit_per_code": 3,
    "credited_networks_per_code": 5,
    "per_prefix": 5,
    "global": 30,
}
MALFORMED, LIVE, CLOSED, UNKNOWN = "malformed", "live", "closed", "unknown"


def limits():
    return {**DEFAULT_LIMITS, **getattr(settings, "BELONGING_CODE_LIMITS", {})}


def now():
    """The clock, one place for tests to move it."""
    return time.time()


def _digest(text):
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"belonging/ratelimit/{text}".encode(), hashlib.sha256).hexdigest()[:32]


def client_address(request):
    """The client's address. Behind BELONGING_PROXY_HOPS trusted proxies that each append
    to X-Forwarded-For, the client is that many entries from the right; entries further
    left were written by the client and could be forged."""
    hops = int(getattr(settings, "BELONGING_PROXY_HOPS", 0) or 0)
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def client_network(address):
    """IPv4: the address. IPv6: its /64, because one phone or household gets a whole /64
    and could otherwise take a fresh budget for every guess."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unparseable"  # every such client shares one budget
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def well_formed(code):
    return len(code) == CODE_LENGTH and not set(code) - set(CODE_ALPHABET)


def classify(code):
    """MALFORMED (can never be a code), LIVE (joins now), CLOSED (a session had it), or
    UNKNOWN (a well-formed code no session ever had: the only kind that is counted)."""
    if not well_formed(code):
        return MALFORMED
    rows = list(Session.objects.filter(code=code).values_list("status", "wave__status"))
    if not rows:
        return UNKNOWN
    if (Session.Status.OPEN, Wave.Status.OPEN) in rows:
        return LIVE
    return CLOSED


def _incr(key, delta=1):
    cache.add(key, 0, TTL)  # incr needs an existing key; add is atomic and keeps a live one
    return cache.incr(key, delta)


@dataclass
class Attempt:
    network: str  # keyed digest of the client network
    code: str
    window: int

    @classmethod
    def from_request(cls, request, code):
        network = _digest("network:" + client_network(client_address(request)))
        return cls(network, code, int(now() // WINDOW_SECONDS))

    def key(self, *parts):
        return ":".join(["rl", str(self.window), *parts])

    @property
    def code_digest(self):
        return _digest("code:" + self.code)

    def prefix_key(self):
        if not well_formed(self.code):
            return None
        return self.key("prefix", _digest("prefix:" + self.code[:PREFIX_LENGTH]))

    def refusal(self):
        """Why this attempt must wait ("network", "prefix", "global"), or None. Depends only
        on counters, never on whether the code is live."""
        lim = limits()
        keys = {"fail": self.key("fail", self.network), "credit": self.key("credit", self.network),
                "global": self.key("global")}
        if (prefix := self.prefix_key()) is not None:
            keys["prefix"] = prefix
        found = cache.get_many(list(keys.values()))
        value = {name: found.get(key, 0) for name, key in keys.items()}
        uncredited = value["fail"] - value["credit"]
        if value.get("prefix", 0) >= lim["per_prefix"]:
            return "prefix"
        if uncredited >= lim["per_network"]:
            return "network"
        if uncredited >= 0 and value["global"] >= lim["global"]:
            return "global"
        return None

    def record(self, outcome):
        if outcome == LIVE:
            self._credit()
        elif outcome == UNKNOWN:
            self._fail()

    def _fail(self):
        if not cache.add(self.key("seen", self.network, self.code_digest), 1, TTL):
            return  # this network already typed this wrong code: nothing new learnt
        failures = _incr(self.key("fail", self.network))
        if failures > (cache.get(self.key("credit", self.network)) or 0):
            _incr(self.key("global"))
        if cache.add(self.key("seen-anywhere", self.code_digest), 1, TTL):
            _incr(self.prefix_key())

    def _credit(self):
        lim = limits()
        per_code = lim["credit_per_code"]
        if not cache.add(self.key("joined", self.network, self.code_digest), 1, TTL):
            return  # credit once per code and network, however many students join
        if _incr(self.key("credited", self.code_digest)) > lim["credited_networks_per_code"]:
            return
        failures = cache.get(self.key("fail", self.network)) or 0
        before = _incr(self.key("credit", self.network), per_code) - per_code
        # Wrong codes this network typed before earning the credit stop counting against
        # the global budget: they were typos of a school that then joined.
        refund = max(0, failures - before) - max(0, failures - before - per_code)
        if refund:
            _incr(self.key("global"), -refund)

    def note(self, reason):
        """Log a spent budget once per hour and kind: an attack must not flood the log."""
        if not cache.add(self.key("logged", reason), 1, TTL):
            return
        if reason == "global":
            log.warning("The hourly budget of wrong access codes is spent; networks without "
                        "credit must wait for the next hour. A guessing attack is likely.")
        else:
            log.info("Access-code entry paused for a client (%s budget spent).", reason)


def _language(request):
    """?lang= (the language switch on student pages), else the browser's."""
    wanted = request.GET.get("lang") or translation.get_language_from_request(request)
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def too_many(request):
    """The 429 page, in the student's language, with the wait until the next window."""
    language = _language(request)
    wait = WINDOW_SECONDS - int(now()) % WINDOW_SECONDS
    with translation.override(language):
        response = render(request, "student/slow_down.html",
                          {"language": language, "minutes": max(1, -(-wait // 60))}, status=429)
    response["Retry-After"] = str(wait)
    return response


def limit_code_entry(view):
    """Decorate a view that takes an access code (`?code=` or a `code` URL argument)."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        code = (kwargs.get("code") or request.GET.get("code") or "").strip().upper()
        if not code:
            return view(request, *args, **kwargs)
        try:
            attempt = Attempt.from_request(request, code)
            reason = attempt.refusal()
            if reason is None:
                attempt.record(classify(code))
            else:
                attempt.note(reason)
        except (RedisError, OSError):
            # A cache outage must not stop a class from starting; it is logged for operators.
            log.warning("Access-code rate limiting is unavailable (cache error).", exc_info=True)
            reason = None
        if reason is not None:
            return too_many(request)
        return view(request, *args, **kwargs)
    return wrapped
