"""The sandbox's web front door: the health check, the served OpenAPI documents with their
docs page, and the live dashboard (web/routes.py). Every script, style and font the pages
use ships in this package or in an installed dependency; nothing is fetched from elsewhere.
"""
