"""Privacy: data-subject export and erasure, retention, key rotation, redaction settings."""
