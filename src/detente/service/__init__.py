"""Détente over HTTP: `detente serve` (app), its authentication (auth), limits, and a client."""
