import os

from shared import VALUE


def handler(event, context):
    return {"second": os.environ["SECOND"], "joined": os.environ["JOINED"], "layer": VALUE, "version": context.function_version}
