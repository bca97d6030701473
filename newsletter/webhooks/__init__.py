"""Outbound webhooks: subscriber and issue events POSTed to the ``[[webhooks]]`` URLs, signed.

``events`` queues each event in ``webhook_events`` in the transaction of the change it
reports; ``sender`` hands them to each endpoint that wants them, in order per subscriber,
retrying with backoff; ``signature`` signs them as the Standard Webhooks spec says
(https://www.standardwebhooks.com/). Nothing here is imported on a plain start: the
package's modules are imported by name.
"""
