"""Content-addressed code packages (zips), stored once by sha256."""
