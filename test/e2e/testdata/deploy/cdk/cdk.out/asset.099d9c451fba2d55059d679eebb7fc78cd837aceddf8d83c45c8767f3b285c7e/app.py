def handler(event, context):
    return {"from": "cdk python"}
