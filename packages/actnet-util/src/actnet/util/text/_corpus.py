"""The default corpus: CPython's own language reference, offline.

`pydoc_topics` returns the text that ``help("if")`` and the other pydoc topics
show, from ``pydoc_data/topics.py`` in the standard library: the sections of
the language reference, in English, as plain text. It ships with every CPython,
so training needs no download; its size depends on the Python version (about
0.47 MB on 3.11; later versions hold more).
"""

from __future__ import annotations

import pydoc_data.topics

__all__ = ["pydoc_topics"]


def pydoc_topics() -> str:
    """The pydoc topics of this Python, in sorted key order, separated by a
    blank line (each topic ends with a newline).

    >>> text = pydoc_topics()
    >>> "The \\"if\\" statement" in text
    True
    """
    topics = pydoc_data.topics.topics
    return "\n".join(topics[key] for key in sorted(topics))
