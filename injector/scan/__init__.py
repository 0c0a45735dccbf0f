"""``injector scan``: find secrets baked into container images (seed 002).

Never imported on the exec path: the CLI reaches it through ``injector.commands.scan``.
"""
