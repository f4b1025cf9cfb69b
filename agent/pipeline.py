"""A running pipeline: inputs → processors → aggregator → queue → flushers.

Each input runs on its own thread and hands chunks to the pipeline (the Collector);
processors run on that thread; the RunningAggregator serialises the aggregator and
flushes on its timer; Delivery drains the bounded queue into one lane per flusher.

Acknowledgements: before a batch enters the aggregator the pipeline tells its
`AckCounter` how many logs of the batch's origin will (after processors, which may drop
or rebuild logs: the survivors carry the origin); Delivery reports each group every
flusher is through with, and the counter tells the origin's ledger (an input's
checkpoint) once all its logs are. The checkpoint store is written after the last
delivery at `stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from agent.acks import AckCounter
from agent.checkpoint import CheckpointStore
from agent.config import PipelineConfig
from agent.delivery import Delivery
from agent.events import EventBus
from agent.foreground import foreground
from agent.metrics import PipelineMetrics
from agent.plugin import Context
from agent.protocol import Log, LogBatch, LogContext, LogGroup, log_size
from agent.queue import LogGroupQueue
from agent.registry import Registry
from agent.runner import RunningAggregator

__all__ = ["Pipeline"]

_log = logging.getLogger("tailbox.pipeline")

PROCESS_STEP = 1024  # lines turned into Logs and processed at a time


class Pipeline:
    def __init__(
        self,
        config: PipelineConfig,
        registry: Registry,
        events: EventBus | None = None,
        *,
        once: bool = False,
        checkpoints: Any = None,
        on_group: Callable[[LogGroup], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.once = once
        self.events = events or EventBus()
        self.metrics = PipelineMetrics(self.name)
        self.queue = LogGroupQueue(config.global_value("DefaultLogGroupQueueSize"))
        self.metrics.queue_depth = lambda: self.queue.depth
        self.metrics.queue_capacity = self.queue.capacity
        # Checkpoints: None -> this pipeline's store in the state dir; False -> none kept.
        if checkpoints is None:
            checkpoints = CheckpointStore.for_pipeline(
                self.name, report=lambda m: self.events.publish("warning", self.name, message=m)
            )
        self.checkpoints = checkpoints or None
        self.acks = AckCounter()
        self.context = Context(
            self.name,
            checkpoints=self.checkpoints,
            metrics=self.metrics,
            once=once,
            report=lambda kind, data: self.events.publish(kind, self.name, **data),
            discard=self.acks.group_done,
        )

        def create(entry: Any) -> Any:
            return registry.create(entry.type, entry.params)

        self.inputs = [(p.type, create(p)) for p in config.inputs]
        self.processors = [(p.type, create(p)) for p in config.processors]
        self.flushers = [(p.type, create(p)) for p in config.flushers]
        agg_config = config.aggregators[0]
        for _, plugin in (*self.processors, *self.flushers, *self.inputs):
            plugin.init(self.context)
        self.delivery = Delivery(
            self.queue,
            self.flushers,
            self.name,
            self.events,
            self.metrics,
            on_group,
            on_ack=self.acks.group_done,
        )
        self.aggregator = RunningAggregator(
            create(agg_config),
            self.queue,
            self.context,
            name=agg_config.type,
            default_interval_ms=config.global_value("AggregatIntervalMs"),
            events=self.events,
            metrics=self.metrics,
            slow_flusher=self.delivery.slowest,
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False

    # -- the Collector inputs call ---------------------------------------------------

    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        foreground.pause_point()  # the input's thread holds nothing here
        m = self.metrics
        n = len(batch)
        m.lines += n
        m.bytes += batch.line_bytes()
        origin = batch.origin
        if self.processors:
            if n <= PROCESS_STEP:
                return self._process_batch(batch, ctx)
            # A chunk's lines as Logs cost ~10x the chunk: a step at a time keeps that
            # bounded (and in cache). The hold keeps the origin from being acknowledged
            # between steps; it is released only when every step was taken.
            self.acks.expect(origin, 1)
            for start in range(0, n, PROCESS_STEP):
                step = batch.sub(start, start + PROCESS_STEP)
                if not self._process_batch(step, ctx):
                    return False
            self.acks.release(origin)
            return True
        m.logs += n
        self.acks.expect(origin, n)
        return self.aggregator.add_batch(batch, ctx)

    def _process_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        logs = self._process(batch.to_logs())
        self.metrics.logs += len(logs)
        origin = batch.origin
        if origin is not None:
            # Processors may build new Logs: the survivors carry the batch's origin.
            for log in logs:
                log.origin = origin
            self.acks.expect(origin, len(logs))
        return self.aggregator.add_logs(logs, ctx)

    def add_logs(self, logs: list[Log], ctx: LogContext) -> bool:
        foreground.pause_point()
        self.metrics.lines += len(logs)
        self.metrics.bytes += sum(map(log_size, logs))  # inputs of Logs: journal, Event Log
        origins = {id(log.origin): log.origin for log in logs if log.origin is not None}
        logs = self._process(logs)
        self.metrics.logs += len(logs)
        if origins:
            if len(origins) == 1:
                [origin] = origins.values()
                for log in logs:
                    log.origin = origin
            self.acks.expect_logs(logs, origins.values())
        return self.aggregator.add_logs(logs, ctx)

    def _process(self, logs: list[Log]) -> list[Log]:
        for name, processor in self.processors:
            try:
                logs = processor.process_logs(logs)
            except Exception as e:
                # A processor bug must not lose the chunk: pass it on unprocessed.
                self.metrics.errors += 1
                _log.exception("pipeline %s: processor %s failed", self.name, name)
                self.events.publish("error", self.name, plugin=name, message=str(e))
        return logs

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.delivery.start()
        self.aggregator.start()
        for index, (name, plugin) in enumerate(self.inputs):
            thread = threading.Thread(
                target=self._run_input,
                args=(name, plugin),
                name=f"tailbox-{self.name}-{name}-{index}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def _run_input(self, name: str, plugin: Any) -> None:
        try:
            plugin.run(self, self._stop, self.once)
        except Exception as e:
            self.metrics.errors += 1
            _log.exception("pipeline %s: input %s stopped on an error", self.name, name)
            self.events.publish("error", self.name, plugin=name, message=f"input stopped: {e}")

    def inputs_done(self, timeout: float | None = None) -> bool:
        """Wait until every input has returned (in once mode: read to the end)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop reading, flush, deliver what was read; True when everything was delivered.

        Within `timeout` (default: the pipeline's StopTimeoutSecs) blocked readers may
        still hand over their chunk and flushers keep retrying; after it, whatever is
        not delivered stays unacknowledged (it is read again on the next start).
        """
        if timeout is None:
            timeout = float(self.config.global_value("StopTimeoutSecs"))
        deadline = time.monotonic() + timeout
        self._stop.set()
        if not self.inputs_done(max(0.0, deadline - time.monotonic())):
            self.aggregator.abandon()
            self.inputs_done()
        queued = self._final_flush(deadline)
        self.queue.close()
        delivered = self.delivery.stop(max(0.0, deadline - time.monotonic()))
        if self.checkpoints is not None:
            self.checkpoints.close()  # the last acknowledgements, written before we return
        ok = queued and delivered
        if not ok:
            self.events.publish(
                "warning",
                self.name,
                message="stopped before everything read was delivered "
                f"({self.delivery.undelivered} LogGroup(s) given up); what was not delivered "
                "was not acknowledged",
            )
        return ok

    def _final_flush(self, deadline: float) -> bool:
        done = threading.Event()
        result: list[bool] = []

        def flush() -> None:
            result.append(self.aggregator.stop())
            done.set()

        threading.Thread(target=flush, name=f"tailbox-{self.name}-final-flush", daemon=True).start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            self.aggregator.abandon()
            done.wait()
        return bool(result and result[0])

    def run_once(self) -> bool:
        """Read every input to its current end, deliver everything, stop."""
        self.start()
        self.inputs_done()
        return self.stop()
