"""The sans-IO core of todo-api: every rule of the API, and no I/O.

A frontend turns its framework's request into a `Request`, asks `Api.handle` for a
plan (a generator that yields `Query` objects and returns a `Response`), and lets a
storage driver run the plan. Nothing here imports a web framework or a database driver.
"""

from core.api import Api
from core.http import Request, Response
from core.plan import Plan, Query, StorageFailure

__all__ = ["Api", "Plan", "Query", "Request", "Response", "StorageFailure"]
