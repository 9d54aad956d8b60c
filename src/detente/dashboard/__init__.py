"""The read-only web dashboard: the public view of a workspace, proofs checked in the page.

- views.py — `Dashboard`: what the page shows, as plain JSON (never a record body, never an item);
- app.py — the FastAPI router (mounted by the service) and the standalone app; static/ — the page.
"""

from detente.dashboard.app import create_app, router
from detente.dashboard.views import Dashboard

__all__ = ["Dashboard", "create_app", "router"]
