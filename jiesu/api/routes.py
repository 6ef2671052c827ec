from ninja import NinjaAPI

api = NinjaAPI(title="Jiesu API", version="1", urls_namespace="api")
