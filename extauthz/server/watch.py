"""Watch the config file and reload when its content changes.

Polling os.stat (inode, size, mtime) every `server.watch_seconds`: no extra
dependency, and it sees every way a file gets replaced — an editor's rename,
`kubectl` updating a ConfigMap (a symlink swap), a plain overwrite. A change of
stat only triggers a reload when the content's digest differs from what was
last loaded, so touching the file does nothing. The reload is the same one
SIGHUP and the admin API call (ServingProcess.reload). A change is picked up
within two intervals (it must hold still for one).
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from typing import Callable

log = logging.getLogger("extauthz.watch")


def file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _stat_key(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class ConfigWatcher:
    def __init__(self, path: str, interval: float, reload: Callable[[], object],
                 loaded_digest: Callable[[], str | None]) -> None:
        self.path, self.interval = path, interval
        self._reload, self._loaded_digest = reload, loaded_digest
        self._stop = threading.Event()
        self._last = self._seen = _stat_key(path)
        self._thread = threading.Thread(target=self._run, name="config-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # the watcher must outlive any surprise
                log.exception("config watch failed")

    def poll(self) -> bool:
        """One look; True when a reload was started.

        A change is acted on once the file has stayed the same for one interval,
        so a file written in several steps is not loaded half-written.
        """
        key = _stat_key(self.path)
        if key != self._seen:
            self._seen = key
            return False
        if key == self._last:
            return False
        self._last = key
        if key is None:
            log.warning("config file %s disappeared; keeping the running config", self.path)
            return False
        if file_digest(self.path) == self._loaded_digest():
            return False
        log.info("config file %s changed; reloading", self.path)
        self._reload()
        return True
