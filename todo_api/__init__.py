"""The runnable service around the core, in four layers (tests/test_layers.py keeps
imports running downwards): `config` (settings), `observe` (logs, metrics), `glue`
(what both frontends share) and `serve` (the command line, servers, embedded mode)."""
