"""FC accounts: credentials, region and endpoint that functions are bound to."""
