"""Behaviour profiles: what normal requests look like, per service and endpoint.

The modules, in the order a request meets them:

- features: one value's length, character classes, type (a small lattice), shape
- paths: endpoint templates (`/users/{int}`) and parameter names (`$.items[*].sku`)
- examine: one request against a learned profile: an Observation and its Anomalies
- stage: the engine stage (anomalies the policy enforces become Findings; clean
  requests are learned after the verdict)
- model: the mergeable summaries a profile is made of
- book: live profiles, per-worker deltas, the background merge through a store
- rates: per-endpoint request-rate baselines (for actor risk)
- document: a profile as versioned bytes, whatever the store
- bootstrap, report: `extauthz learn` and `extauthz profile show`

README "Behaviour learning" describes what is learned and enforced.
"""
