"""The admin API's view of one serving process (extauthz.admin.api.AdminBackend)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from extauthz import metrics
from extauthz.admin.api import config_as_data, redact_config
from extauthz.events import EventFilter

if TYPE_CHECKING:
    from extauthz.server.grpc_server import ServingProcess


class LocalBackend:
    def __init__(self, proc: "ServingProcess") -> None:
        self.proc = proc

    def ready(self) -> tuple[bool, str]:
        if self.proc._draining:
            return False, "draining"
        if not self.proc._ready:
            return False, "starting"
        return True, "serving"

    def metrics(self) -> tuple[bytes, str]:
        return metrics.exposition()

    def events(self, flt: EventFilter) -> list[dict]:
        events = self.proc.telemetry.events
        return events.recent(flt) if events is not None else []

    def reload(self) -> tuple[bool, str]:
        return self.proc.reload()

    def effective_config(self) -> dict:
        out = redact_config(config_as_data(self.proc.config))
        out["_source"] = {"path": self.proc.options.config_path, "sha256": self.proc.config_digest}
        return out

    def _runtime_part(self, name: str):
        runtime = getattr(self.proc.service.engine, "runtime", None)
        return getattr(runtime, name, None) if runtime is not None else None

    def actor_admin(self):
        return self._runtime_part("actors")

    def list_admin(self):
        return self._runtime_part("lists")

    def profile_admin(self):
        return self._runtime_part("profiles")
