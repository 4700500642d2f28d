"""extauthz: a web application firewall for service meshes (Envoy ext_authz)."""
__version__ = "0.1.0"
