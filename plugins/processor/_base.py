"""What Tailbox's processors share: the per-log loop, its counters and rate-limited warnings.

A processor derives from `LogProcessor` and implements `process_log(log) -> outcome`,
one of the constants below. The loop keeps or drops each log by its outcome, counts it,
and turns an exception into the FAILED outcome for that log only, so one bad log never
loses the others. `process_log` should compute before it mutates: a log that raised is
passed on as it is.
"""

from __future__ import annotations

import time

from agent.plugin import Context, Plugin
from agent.protocol import Log

__all__ = [
    "DROPPED",
    "FAILED",
    "MISSING",
    "OK",
    "UNMATCHED",
    "UNMATCHED_DROPPED",
    "LogProcessor",
    "cut",
    "not_empty",
]

# Outcomes of one log. The first four keep the log, the last two drop it.
OK = 0  # parsed, changed, or let through
MISSING = 1  # the field to work on is absent; the log passes unchanged
UNMATCHED = 2  # the field could not be parsed; the log is kept
FAILED = 3  # process_log raised; the log is kept as it was
UNMATCHED_DROPPED = 4  # could not be parsed and nothing was left to keep
DROPPED = 5  # filtered out on purpose
_KEPT_UP_TO = FAILED

WARNING_INTERVAL = 10.0  # seconds between two warnings of one processor, like iLogtail's alarms
_SHOWN_CHARS = 200


def not_empty(value: object) -> str | None:
    """A Param check: the value must not be empty."""
    return None if value else "must not be empty"


def cut(value: str) -> str:
    """A value short enough to quote in a warning."""
    return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "...")


class LogProcessor(Plugin):
    """Base of the processors. Counters: `parsed`, `missing`, `unmatched`, `dropped`, `errors`.

    `unmatched` includes lines dropped because they did not parse; `dropped` counts every
    log removed. Subclasses say in `check_config` whether unmatched or missing fields are
    errors (`unmatched_is_error`, `missing_is_error`); errors are added to the pipeline's
    `metrics.errors` and reported as warnings, at most one per `WARNING_INTERVAL`.
    """

    def __init__(self) -> None:
        self.context = Context()
        self.unmatched_is_error = True
        self.missing_is_error = False
        self.parsed = 0
        self.missing = 0
        self.unmatched = 0
        self.dropped = 0
        self.errors = 0
        # What went wrong with the latest log that counts as an error, for the next warning.
        self.failure = ""
        self._unreported = 0
        self._next_warning = 0.0

    def init(self, context: Context) -> None:
        self.context = context

    def process_log(self, log: Log) -> int:
        raise NotImplementedError

    def absent(self, *keys: str) -> int:
        """The outcome for a log without the field(s) the processor works on."""
        if self.missing_is_error:
            self.failure = "no field " + ", ".join(map(repr, keys))
        return MISSING

    def unparsed(self, contents: dict[str, str], source: str, keep: bool, failure: str) -> int:
        """The outcome for a source value that does not parse: kept, or its field removed.

        A log left with no field at all is dropped: it would carry nothing but a time.
        """
        if self.unmatched_is_error:
            self.failure = failure
        if keep:
            return UNMATCHED
        del contents[source]
        return UNMATCHED if contents else UNMATCHED_DROPPED

    def process_logs(self, logs: list[Log]) -> list[Log]:
        one = self.process_log
        kept: list[Log] = []
        keep = kept.append
        tally = [0, 0, 0, 0, 0, 0]
        for log in logs:
            try:
                outcome = one(log)
            except Exception as e:
                outcome = FAILED
                self.failure = f"{type(e).__name__}: {e}"
            tally[outcome] += 1
            if outcome <= _KEPT_UP_TO:
                keep(log)
        self._account(tally)
        return kept

    def _account(self, tally: list[int]) -> None:
        ok, missing, unmatched, failed, unmatched_dropped, dropped = tally
        self.parsed += ok
        self.missing += missing
        self.unmatched += unmatched + unmatched_dropped
        self.dropped += unmatched_dropped + dropped
        self.errors += failed
        errors = failed
        if self.unmatched_is_error:
            errors += unmatched + unmatched_dropped
        if self.missing_is_error:
            errors += missing
        if errors:
            metrics = self.context.metrics
            if metrics is not None:
                metrics.errors += errors
            self._warn(errors)

    def _warn(self, count: int) -> None:
        self._unreported += count
        now = time.monotonic()
        if now < self._next_warning:
            return
        self._next_warning = now + WARNING_INTERVAL
        message = (
            f"{self.type_name}: {self._unreported} problem(s) since the last report; "
            f"latest: {self.failure}"
        )
        self._unreported = 0
        self.context.logger.warning(message)
        self.context.report("warning", message=message, plugin=self.type_name)
