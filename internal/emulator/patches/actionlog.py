# The action log: records which AWS actions reach the emulator, and from whom.
#
# Loaded by sitecustomize.py when CLONE_EMULATOR_ACTIONS_LOG names a file
# (scripts/test.sh sets it for the whole acceptance suite). Every request
# moto dispatches appends, the first time this server sees it, one JSON line
# {"service", "action", "user_agent"} to that file. internal/iampolicy's
# TestPolicyCoversCalledActions reads the file: the provider's calls (its
# User-Agent names terraform-provider-clone) must be in the operator policy,
# the AWS CLI's calls (a clone's agent) in the clone policy. Several servers
# append to one file at once: each line is one write in append mode.

import json
import os
import threading

_SEEN = set()
_LOCK = threading.Lock()


def _record(path, service, action, user_agent):
    key = (service, action, user_agent)
    with _LOCK:
        if key in _SEEN:
            return
        _SEEN.add(key)
        line = json.dumps({"service": service, "action": action, "user_agent": user_agent}) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def install(path):
    from moto.core.responses import BaseResponse

    orig_call_action = BaseResponse.call_action

    def call_action(self):
        try:
            service = getattr(self, "service_name", "") or ""
            headers = getattr(self, "headers", None) or {}
            _record(path, service, self._get_action(), headers.get("User-Agent", "") or headers.get("user-agent", ""))
        except Exception:  # noqa: BLE001 - the log must never break a request
            pass
        return orig_call_action(self)

    BaseResponse.call_action = call_action
