# The benchmark's python function: returns its event unchanged.
def handler(event, context):
    return event
