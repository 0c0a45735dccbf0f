"""Entry point for ``python -m injector`` and for the frozen binary.

The cyclic garbage collector is off from the first line: a start allocates a great deal
(botocore's models, clients, requests and answers) and ends in an exec that frees it all.
Its ~60 collections took ~7 ms of a one-secret start (gc.callbacks); unfrozen, against
replayed answers, one secret started ~5 ms and 100 secrets ~9 ms sooner without them, at
the same peak RSS. Reference counting still frees everything that is not in a cycle. The
commands that may run for long (``agent``, ``scan``) turn it back on (``cli.LONG_RUNNING``).
"""

import gc

gc.disable()

from injector.cli import entry  # noqa: E402 - after the collector is off

if __name__ == "__main__":
    entry()
