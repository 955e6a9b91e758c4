"""The HTTP service: ``app`` (routers, problem details, limits), ``jobs`` (batch jobs), ``http_guard`` (slow
clients). ``summarizer serve`` runs ``app.create_app()``."""
