"""Subcommands other than exec; each module exposes ``main(config, args) -> int``."""
