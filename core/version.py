"""The one place the API's version is written (pyproject reads it too)."""

__version__ = "0.1.0"
