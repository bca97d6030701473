"""Email: an issue rendered and built into one message per reader.

``render`` (with ``htmlmail``) renders the issue with ``personal`` placeholders where
each reader's own parts go, ``message`` (with ``mime``) builds each reader's copy with
its list headers, and ``dkim`` signs it.
"""
