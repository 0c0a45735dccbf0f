"""Entry point for ``python -m injector`` and for the frozen binary."""

import os
import sys

from injector.cli import main

if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: worker threads still waiting on a network call must not delay the exit.
    os._exit(code)
