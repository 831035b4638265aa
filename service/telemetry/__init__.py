"""fcplane's own telemetry: Prometheus metrics at /metrics and request ids (X-Request-ID)."""
