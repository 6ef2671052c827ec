"""Desk views, one module per screen. Importing them registers their order actions."""

from jiesu.desk.views import dispatch, home, inbox, intake, order, supervise  # noqa: F401
