"""fcplane: a deployment control plane for Alibaba Cloud Function Compute 3.0."""

__version__ = "0.1.0"
