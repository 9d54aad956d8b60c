"""The append-only, witnessed Merkle log (RFC 9162 hashing, C2SP checkpoints)."""
