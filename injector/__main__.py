"""Entry point for ``python -m injector`` and for the frozen binary."""

from injector.cli import entry

if __name__ == "__main__":
    entry()
