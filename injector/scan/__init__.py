"""``injector scan``: find secrets baked into container images (seed 002).

Never imported on the exec path: the CLI reaches it through ``injector.commands.scan``.
In the frozen binary, the extension modules only a scan needs are stored compressed
(:mod:`injector.scan.native`); their finder is installed here, before any is imported.
"""

from injector.scan import native

native.install()
