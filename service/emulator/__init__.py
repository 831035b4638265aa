"""A local Function Compute 3.0: the FC REST API (2023-03-30) running real code."""
