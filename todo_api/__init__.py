"""The runnable service around the core: settings, the command line, the embedded mode."""
