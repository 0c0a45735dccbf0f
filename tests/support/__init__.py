"""Real test servers on 127.0.0.1: moto, a fault-injecting proxy, an IMDSv2 server, seed helpers.

Import as ``tests.support.<module>`` (the integration conftest puts the repository root on
``sys.path``). ``imds.py`` also runs as a script, with the standard library only.
"""
