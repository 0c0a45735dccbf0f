"""The host agent: containers get their secrets over a Unix socket by who they are (issue 14).

Never imported on the plain exec path; ``injector agent ...`` and ``INJECTOR_AGENT`` reach it.
"""
