"""injector: fetch a container's secrets into memory, then exec the real program."""

__version__ = "0.1.0"
