"""Function metrics: CloudMonitor's FC figures (acs_fc) through fcplane, as JSON and charts."""
