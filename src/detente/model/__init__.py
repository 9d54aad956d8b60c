"""Plain data: parties, keys, record kinds. No I/O lives here."""
