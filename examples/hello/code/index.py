"""An FC 3.0 HTTP-triggered function: answers a greeting as JSON."""

import json
import os


def handler(event, context):
    request = json.loads(event or "{}")
    query = request.get("queryParameters") or {}
    name = query.get("name", "world")
    greeting = os.environ.get("GREETING", "Hello")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": f"{greeting}, {name}!"}),
    }
