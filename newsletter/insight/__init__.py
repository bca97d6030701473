"""Insight without surveillance: an issue's figures, click counts that name nobody, metrics for operators.

``report`` gathers what became of one issue (deliveries by outcome and reason, complaints
and unsubscribes after it, clicks per item and section, the issues before it); ``clicks``
signs the tracked links and counts clicks per issue, item and ten minutes; ``metrics``
exports the system's health in Prometheus's text format. Its modules are imported by name.
"""
