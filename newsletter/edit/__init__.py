"""Edit: turn the waiting items into the next issue.

``issue`` drafts it: ``cluster`` (with ``minhash``) merges the same story from several
sources, ``sections`` (with ``keywords``) places each item, and ``editorial`` applies
the editor's pins, drops and moves.
"""
