"""Edit: turn the waiting items into the next issue.

``issue`` drafts it: ``cluster`` merges the same story from several sources (``minhash``
finds nearly the same text; ``facts`` reads the names, figures and dates an item states,
``names`` and ``quantities`` make them comparable across scripts, ``likeness`` weighs
what two items share, ``roundups`` finds the stories a briefing paragraph retells, and
``stories`` keeps which items may share a story), ``sections`` (with ``keywords`` and ``outlook``) places each item,
and ``editorial`` applies the editor's pins, drops and moves.
"""
