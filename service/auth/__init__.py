"""API tokens: creation, hashing, scopes and the request's principal."""
