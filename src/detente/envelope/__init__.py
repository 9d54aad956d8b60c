"""Signed records: canonical JSON, Ed25519 keys, DSSE envelopes."""
