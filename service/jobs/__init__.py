"""Background work: the arq worker, its context, and in-process fallbacks."""
