"""Where the real endpoint's time goes, for benchmarks/submit.py --profile.

- `record` / `summarise`: py-spy samples every gunicorn worker while wrk loads the real
  endpoint; the collapsed stacks become the share of samples inside each of the
  submission's steps, and the hottest functions.
- `step_costs`: each step of a submission called on its own, a few thousand times, in
  this process with nothing else running: CPU time (this process) and wall time (which
  adds the database's work and the round trip).
"""

import json
import random
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

from benchmarks import BenchError

# The submission's steps, as (label, file suffix, function). A sample counts for a step
# when the step's frame is on its stack; steps can nest (clean is inside submit).
STEPS = [
    ("whole WSGI request (gunicorn handle_request)", "gunicorn/workers/sync.py", "handle_request"),
    ("  Django middleware + view (get_response)", "django/core/handlers/base.py",
     "get_response"),
    ("    DRF APIView.dispatch", "rest_framework/views.py", "dispatch"),
    ("      SubmitResponse.post", "surveys/api.py", "post"),
    ("        submission.submit_to", "surveys/submission.py", "submit_to"),
    ("          access.get_session_for_student (cache miss, refusal)", "surveys/access.py",
     "get_session_for_student"),
    ("          clean", "surveys/submission.py", "clean"),
    ("            _answers", "surveys/submission.py", "_answers"),
    ("            _demographics", "surveys/submission.py", "_demographics"),
    ("          fastinsert.insert (INSERT ... SELECT)", "surveys/fastinsert.py", "insert"),
    ("          submit (reference path: repeats, refusals)", "surveys/submission.py", "submit"),
    ("        DRF Response rendering", "rest_framework/response.py", "rendered_content"),
    ("    baseline view", "benchmarks/urls.py", "baseline_submit"),
]
# Cross-cutting costs: a sample counts when any frame matches.
CROSS = [
    ("JSONField decoding (from_db_value)", "django/db/models/fields/json.py", "from_db_value"),
    ("json.loads / JSONDecoder (any)", "json/decoder.py", "decode"),
    ("model instantiation (Model.from_db)", "django/db/models/base.py", "from_db"),
    ("SQL compilation (as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("cursor.execute (driver + server round trip)", "django/db/backends/utils.py", "_execute"),
    ("transaction commit", "django/db/backends/base/base.py", "commit"),
    ("translation.override / activate", "django/utils/translation/__init__.py", "activate"),
]

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def record(py_spy, master_pid, seconds, workdir, load):
    """Run `load()` while py-spy samples master_pid's workers; return the stacks file."""
    out = Path(workdir) / "profile.txt"
    cmd = [py_spy, "record", "--pid", str(master_pid), "--subprocesses", "--rate", "250",
           "--nonblocking", "--format", "raw", "--output", str(out)]
    try:
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise BenchError(f"cannot run py-spy ({exc}); pip install py-spy") from None
    try:
        load()
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            _, err = spy.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err = spy.communicate()
    if not out.exists():
        raise BenchError(f"py-spy wrote no profile: {err.strip()[-500:]}")
    return out


def _parse(path):
    """[(frames from root to leaf as (file, func)), count]."""
    stacks = []
    for line in Path(path).read_text().splitlines():
        body, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = []
        for raw in body.split(";"):
            m = _FRAME.match(raw)
            if m:
                frames.append((m["file"], m["func"]))
        stacks.append((frames, int(count)))
    return stacks


def _has(frames, suffix, func):
    # py-spy names methods Class.method
    return any(f.endswith(suffix) and (fn == func or fn.endswith("." + func)) for f, fn in frames)


def _short(file, repo):
    for marker in ("site-packages/", "lib/python3.11/", str(repo) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def summarise(path, repo, top=20):
    stacks = _parse(path)
    total = sum(n for _, n in stacks)
    if not total:
        return "profile: no samples"
    lines = [f"profile of the gunicorn workers under the real endpoint: {total:,} py-spy "
             "samples (250 Hz per worker, stacks py-spy judged active: on a saturated machine "
             "that includes waiting for PostgreSQL and for a core); share of samples:"]
    for label, suffix, func in STEPS + [("", "", "")] + CROSS:
        if not label:
            lines.append("  cross-cutting:")
            continue
        n = sum(c for frames, c in stacks if _has(frames, suffix, func))
        lines.append(f"  {n / total:6.1%}  {label}")
    inclusive, own = Counter(), Counter()
    for frames, count in stacks:
        seen = set()
        for file, func in frames:
            key = f"{func} ({_short(file, repo)})"
            if key not in seen:
                inclusive[key] += count
                seen.add(key)
        if frames:
            file, func = frames[-1]
            own[f"{func} ({_short(file, repo)})"] += count
    lines.append(f"  hottest functions by own time (top {top}):")
    for key, n in own.most_common(top):
        lines.append(f"  {n / total:6.1%}  {key}")
    lines.append("  product and Django frames by inclusive time:")
    shown = 0
    for key, n in inclusive.most_common():
        if any(m in key for m in ("surveys/", "rest_framework/", "django/db/models/")):
            lines.append(f"  {n / total:6.1%}  {key}")
            shown += 1
            if shown == top:
                break
    return "\n".join(lines)


def step_costs(session, item_keys, n=2000):
    """CPU and wall milliseconds per call of each step of one submission, measured in this
    process (no HTTP, no concurrency) against the benchmark database."""
    from django.test import Client
    from django.utils import timezone

    from surveys import access, fastinsert, submission

    def payload():
        return {"client_id": str(uuid.uuid4()), "language": "en",
                "demographics": {"gender": "girl", "home_language": "no"},
                "answers": {key: random.randint(1, 4) for key in item_keys}}

    public_id = session.public_id
    found = access.get_session_for_student(public_id)
    rules = submission.Rules.of(found.wave.series)
    data = submission.clean(rules, payload())

    def store():
        data.client_id = uuid.uuid4()
        fastinsert.insert(public_id, rules, data, timezone.now(), submission.SUBMIT_GRACE)

    client = Client(HTTP_HOST="127.0.0.1")

    def post(path):
        return lambda: client.post(path, data=json.dumps(payload()),
                                   content_type="application/json")

    steps = [
        ("access.get_session_for_student", lambda: access.get_session_for_student(public_id)),
        ("submission.clean (20 answers)", lambda: submission.clean(rules, payload())),
        ("fastinsert.insert (one statement)", store),
        ("submission.submit_to, no HTTP", lambda: submission.submit_to(public_id, payload())),
        ("whole real request (test client)", post(f"/api/v1/sessions/{public_id}/responses/")),
        ("whole baseline request (test client)", post(f"/bench/baseline/{public_id}/responses/")),
    ]
    lines = [f"cost of each step, one process, {n:,} calls each (ms per call):"]
    for label, call in steps:
        try:
            for _ in range(50):
                call()
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(n):
                call()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        except (AttributeError, TypeError) as exc:  # the product's functions changed
            lines.append(f"  {label:<40} skipped: {exc}")
            continue
        lines.append(f"  {label:<40} cpu {cpu * 1000 / n:6.3f}  wall {wall * 1000 / n:6.3f}")
    return "\n".join(lines)


def school_audit_costs(wave):
    """Per school of a generated wave (benchmarks/publish.py --audit-only): the school's
    part suppressed as `analytics.snapshot.build_part` does (`_suppress_part`: each
    attempt's audit rounds and closing full audit; the attempt that succeeded: exact
    totals, the district bound or none) and passed through the gate, in this process:
    CPU and wall seconds (CPU time is what a shared machine distorts least), rounds,
    and the cells hidden."""
    from analytics import disclosure, snapshot

    lines = ["school  rounds  suppress cpu s  gate cpu s  wall s  attempt  "
             "hidden groups / measures"]
    total, cells, hidden = 0.0, Counter(), Counter()
    for school in wave.series.schools():
        inp = snapshot.school_input(wave, school)
        wall, cpu = time.perf_counter(), time.process_time()
        groups, relations, _, _, decision, links, bound = snapshot._suppress_part(
            inp, lambda pct, step: None)
        also, same = links or ((), ())
        kind = "none" if links is None else "bound" if bound else "exact"
        mid = time.process_time()
        findings = snapshot.gate(disclosure.publish(groups, decision, inp.k), relations,
                                 inp.k, decision, also, same)
        end, wall = time.process_time(), time.perf_counter() - wall
        total += end - cpu
        _class_cells(groups, decision, cells, hidden)
        lines.append(f"{school.name:<10} {decision.rounds:4d}  {mid - cpu:14.1f}  {end - mid:10.1f}"
                     f"  {wall:6.1f}  {kind:<7}  {len(decision.hidden_groups)} / "
                     f"{len(decision.hidden_measures)}{'  GATE REFUSED' if findings else ''}")
    lines.append(f"total CPU seconds (suppress + gate): {total:.1f}")
    lines.append("hidden in shown classes: " + ", ".join(
        f"{kind} {hidden[kind]:,} of {cells[kind]:,}" for kind in sorted(cells)))
    return "\n".join(lines)


def latest_parts(wave):
    """The parts of the wave's latest snapshot, by school name (--district-only)."""
    from analytics.models import Snapshot

    latest = Snapshot.objects.filter(wave=wave).order_by("-version").first()
    if latest is None:
        raise BenchError("--district-only: publish the wave first (run without it, --reuse)")
    return sorted(latest.parts.select_related("school"), key=lambda p: p.school.name)


def district_level_costs(wave):
    """The district level of a generated wave published before (benchmarks/publish.py
    --district-only, with --reuse), over its latest snapshot's parts, built in this
    process twice: with the parts that enter whole audited all at once (the baseline,
    `snapshot.SPLIT_GROUPS` out of reach) and each apart (`snapshot.split_whole`). CPU and
    wall seconds, parts whole and apart, measures hidden, and the ratio."""
    from analytics import snapshot
    from analytics.publishing import previous_document

    parts = latest_parts(wave)
    lines, cpu = ["district level    cpu s  wall s  parts whole / apart  hidden groups / "
                  "measures"], {}
    split = snapshot.SPLIT_GROUPS
    for label, most in (("all at once", 10**9), ("each apart", split)):
        snapshot.SPLIT_GROUPS = most
        wall, started = time.perf_counter(), time.process_time()
        try:
            _, report = snapshot.build_district(wave, parts, previous_document(wave))
        finally:
            snapshot.SPLIT_GROUPS = split
        cpu[label], wall = time.process_time() - started, time.perf_counter() - wall
        lines.append(f"{label:<15} {cpu[label]:7.1f}  {wall:6.1f}  {report['parts_whole']:5d} / "
                     f"{report['parts_apart']}  {report['hidden_groups']} / "
                     f"{report['hidden_measures']}")
    lines.append(f"each apart / all at once (CPU): {cpu['each apart'] / cpu['all at once']:.2f}x")
    return "\n".join(lines)


def _class_cells(groups, decision, cells, hidden):
    """Count the measures of shown classes by kind (item mean, % favorable, option
    share, component) and how many of them the decision hides."""
    for g in groups:
        if not g.key.startswith("class:") or g.key in decision.hidden_groups:
            continue
        for key in g.measures:
            kind = ("item mean" if key.endswith(":mean") else
                    "% favorable" if key.endswith(":favorable") else
                    "option share" if ":option:" in key else "component")
            cells[kind] += 1
            hidden[kind] += (g.key, key) in decision.hidden_measures
