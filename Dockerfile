# syntax=docker/dockerfile:1
# extauthz: the ext_authz gRPC server, as a slim non-root image.
#
#   docker build -t extauthz .
#   docker run --rm -p 9001:9001 extauthz                       # built-in policy, 0.0.0.0:9001
#   docker run --rm -v $PWD/my.yaml:/etc/extauthz/extauthz.yaml:ro \
#              -e EXTAUTHZ_CONFIG=/etc/extauthz/extauthz.yaml extauthz
#
# Stage 1 builds a wheel-installed virtualenv (protos compiled by grpcio-tools at
# build time); stage 2 copies only that virtualenv onto a fresh slim Python: no
# compiler, no pip cache, no build tools. Every dependency installs from a
# binary wheel (grpcio, protobuf, hyperscan, pyyaml).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ONLY_BINARY=grpcio,grpcio-tools,protobuf,hyperscan,pyyaml
WORKDIR /src
RUN python -m venv /opt/extauthz
COPY pyproject.toml setup.py README.md ./
COPY extauthz ./extauthz
COPY envoy ./envoy
COPY examples ./examples
# the demo services (stdlib only) for the Istio demo: /opt/extauthz/share/examples
COPY examples /opt/extauthz/share/examples
RUN /opt/extauthz/bin/pip install . \
 && /opt/extauthz/bin/pip check \
 && /opt/extauthz/bin/pip uninstall --yes pip setuptools wheel \
 && find /opt/extauthz -name __pycache__ -type d -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="extauthz" \
      org.opencontainers.image.description="A web application firewall for service meshes: an Envoy ext_authz gRPC server" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 extauthz \
 && useradd --system --uid 10001 --gid extauthz --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin extauthz
COPY --from=build /opt/extauthz /opt/extauthz
# EXTAUTHZ_LISTEN / EXTAUTHZ_ADMIN_LISTEN: the server's own defaults are
# 127.0.0.1:9001 and 127.0.0.1:9002, unreachable from outside a container.
# The admin port serves /healthz, /readyz, /metrics (Prometheus) openly and the
# /v1/* endpoints only with the bearer token in EXTAUTHZ_ADMIN_TOKEN (none set:
# 401). EXTAUTHZ_CONFIG: mount a policy and point here (unset: the built-in
# policy, block at threshold 8). Tracing: OTEL_TRACES_EXPORTER=otlp and
# OTEL_EXPORTER_OTLP_ENDPOINT. Security events go to stderr as JSON lines.
ENV PATH=/opt/extauthz/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    EXTAUTHZ_LISTEN=0.0.0.0:9001 \
    EXTAUTHZ_ADMIN_LISTEN=0.0.0.0:9002 \
    EXTAUTHZ_LOG_LEVEL=info
USER 10001:10001
EXPOSE 9001 9002
# gRPC health (grpc.health.v1): NOT_SERVING while draining after SIGTERM; the start
# period covers compiling the detectors (seconds, more on a busy host)
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "extauthz.healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["extauthz"]
CMD ["serve"]
