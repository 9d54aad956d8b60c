"""Détente over HTTP: `detente serve` (app), its authentication (auth), limits, and a client."""

from detente.service.app import Settings, create_app

__all__ = ["Settings", "create_app"]
