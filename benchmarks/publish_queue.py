"""The order in which the publishing benchmark's parts are queued (benchmarks/publish.py
--queue), and what that order is worth.

`publish_wave` queues a district wave's parts the likely longest first
(`analytics.publishing.wave_school_ids`): by the seconds each school's last part took,
or, for a school with no earlier part, by its classes under k (the guess). The
benchmark publishes one wave several times, so:

- `guess`: every timed run starts with no earlier part, as a wave's first publication;
- `history`: the first run starts with none; each later run finds the parts of the run
  before as its history, as a re-publication (or the next wave of the series) does;
- `both`: each worker count after the first is timed with the guess, then with the
  history, in the same run.

`simulate` replays the first run's part seconds through list scheduling on n workers
in each order: a figure of the order's worth free of the machine's noise.
"""

import heapq


def runs(workers, queue):
    """[(workers, order)] to time, in turn: order is "guess" or "history"."""
    plan = []
    for i, count in enumerate(workers):
        if queue == "both" and i > 0:
            plan.append((count, "guess"))
        plan.append((count, "guess" if queue == "guess" or i == 0 else "history"))
    return plan


def reset(wave, order):
    """Forget earlier publications so every part is computed again. With "history" the
    parts of the run before stay, as history: their fingerprints are changed so that
    none is reused, and the next run's snapshot drops them, as it drops any part no
    snapshot lists."""
    from analytics.models import PublishRun, Snapshot, SnapshotPart
    from surveys.models import Wave

    Snapshot.objects.filter(wave=wave).delete()
    PublishRun.objects.filter(wave=wave).delete()
    parts = SnapshotPart.objects.filter(wave=wave)
    if order == "history":  # the last run's parts: its snapshot dropped any other
        for pk, fingerprint in parts.values_list("pk", "fingerprint"):
            SnapshotPart.objects.filter(pk=pk).update(fingerprint="earlier:" + fingerprint[:56])
    else:
        parts.delete()
    Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.CLOSED)


def simulate(seconds, order, workers):
    """Seconds until the last of the parts ends when `workers` workers take them one at
    a time in `order`, each part taking its `seconds`."""
    ends = [0.0] * workers
    for school in order:
        heapq.heapreplace(ends, ends[0] + seconds[school])
    return max(ends)


def orders(wave):
    """The last run's part seconds, the guess's order and the history's."""
    from analytics.publishing import class_sizes, longest_first, part_seconds

    sizes = class_sizes(wave)
    seconds = part_seconds(wave, sizes)
    k = wave.series.k
    return seconds, longest_first(sizes, k), longest_first(sizes, k, seconds)


def report(wave, worker_counts):
    """The first run's parts replayed through each order on each worker count."""
    seconds, guess, history = orders(wave)
    total, longest = sum(seconds.values()), max(seconds.values())
    lines = [f"queue simulated from the first run's parts ({len(seconds)} parts, "
             f"{total:.1f} s in all, the longest {longest:.1f} s):"]
    for count in sorted(set(worker_counts)):
        if count > 1:
            bound = max(total / count, longest)
            lines.append(f"  {count} workers: guess order {simulate(seconds, guess, count):.1f}"
                         f" s, history order {simulate(seconds, history, count):.1f} s "
                         f"(no order beats {bound:.1f} s)")
    return "\n".join(lines)
