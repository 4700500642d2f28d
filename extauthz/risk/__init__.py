"""Actor risk: remember who is attacking.

Every actor (client address, mesh principal, and optionally user agent or a
hashed credential) carries a risk score that grows with its findings and
scripted-looking activity and decays when it stops; past the block threshold
the actor is denied for a while, even for requests that look clean. State lives
in a StateStore (extauthz/store): in-process by default, Redis when several
workers or replicas must agree.

Modules: identity (who is asking), lists (allow/deny lists), points (how much
risk a verdict adds), signals (scripted activity, the pluggable rate
baseline), stage (the engine stage), admin (the Python API for the `actors`
command and the admin API).
"""
