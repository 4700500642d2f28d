"""The admin HTTP API: health, metrics, events, reload, config, actors, lists, profiles.

See extauthz.admin.api for the routes and extauthz.admin.openapi for the
document served at /openapi.json.
"""
