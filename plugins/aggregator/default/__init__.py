"""aggregator_default: the aggregator a pipeline gets when it names none (iLogtail's: context)."""

from __future__ import annotations

from agent.plugin import register
from plugins.aggregator.context import AggregatorContext


@register
class AggregatorDefault(AggregatorContext):
    type_name = "aggregator_default"
    summary = (
        "The aggregator used when a pipeline names none: packs logs per source, "
        "keeping each source's order and its context tags."
    )
