"""Serving and supervision: the command line, the servers, the embedded mode."""
