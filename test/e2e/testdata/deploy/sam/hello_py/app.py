import os

import shared


def handler(event, context):
    return {
        "greeting": os.environ.get("GREETING"),
        "stage": os.environ.get("STAGE"),
        "prod": os.environ.get("PROD"),
        "queue": os.environ.get("QUEUE_URL"),
        "shared": shared.VALUE,
        "version": context.function_version,
    }
