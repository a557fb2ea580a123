"""Start a local moto server for the sandbox, in this process or in a child process.

``start_moto_server()`` runs moto's ``ThreadedMotoServer`` on 127.0.0.1 and a free port in
this process. moto keeps its state in module globals, so every in-process server shares one
estate and one ``/moto-api/reset``; ``start_moto_process()`` runs a server (optionally
seeded with the sandbox) in a child process whose state nothing else can reset.

Both point ``MOTO_AMIS_PATH`` at ``adapters/aws/amis.json`` when it is unset, so moto loads
two public AMIs instead of about 1,300 (each with a snapshot that would look orphaned).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

    from adapters.aws.sandbox import SandboxManifest

logger = logging.getLogger(__name__)

AMIS_PATH = Path(__file__).with_name("amis.json")
_ROOT = Path(__file__).resolve().parents[2]


def use_small_ami_catalogue() -> None:
    """Point ``MOTO_AMIS_PATH`` at the two-AMI catalogue unless it is already set.

    It only has an effect before moto's EC2 models are imported.
    """
    if "MOTO_AMIS_PATH" not in os.environ:
        if "moto.ec2.models.amis" in sys.modules:
            logger.warning("moto imported before MOTO_AMIS_PATH was set")
        os.environ["MOTO_AMIS_PATH"] = str(AMIS_PATH)


def start_moto_server() -> tuple[ThreadedMotoServer, str]:
    """Start moto in this process on 127.0.0.1 and a free port: (server, endpoint URL).

    Stop it with ``server.stop()``.
    """
    use_small_ami_catalogue()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


@dataclass
class MotoProcess:
    """A moto server in a child process; ``manifest`` is set when it was seeded."""

    process: subprocess.Popen[str]
    endpoint_url: str
    manifest: SandboxManifest | None
    log_path: str

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child (it holds nothing worth a graceful shutdown)."""
        _stop(self.process, timeout)

    def __enter__(self) -> MotoProcess:
        """Use as a context manager that stops the server on exit."""
        return self

    def __exit__(self, *_: Any) -> None:
        """Stop the server."""
        self.stop()


@dataclass
class PendingMotoProcess:
    """A child moto process that is starting (and maybe seeding); ``wait`` for it."""

    process: subprocess.Popen[str]
    log_path: str

    def wait(self, timeout: float = 120.0) -> MotoProcess:
        """Block until the child reports its endpoint (and manifest); return it running.

        Raises ``RuntimeError`` naming the child's log file when it does not come up in time.
        """
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            _stop(self.process, 5.0)
            raise RuntimeError(f"moto did not start within {timeout:.0f} s; see {self.log_path}")
        raw = json.loads(line)
        manifest = None
        if raw.get("manifest"):
            from adapters.aws.sandbox import SandboxManifest

            manifest = SandboxManifest.from_json(json.dumps(raw["manifest"]))
        return MotoProcess(self.process, raw["endpoint_url"], manifest, self.log_path)

    def stop(self) -> None:
        """Stop the child without waiting for it to come up."""
        _stop(self.process, 5.0)


def _stop(process: subprocess.Popen[str], timeout: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout):
        if stream:
            stream.close()


def spawn_moto_process(*, seed_now: datetime | None = None) -> PendingMotoProcess:
    """Start moto in a child process without waiting; with ``seed_now`` it seeds the sandbox.

    Seeding in the child lets it back-date creation times (see ``adapters.aws.sandbox``).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("MOTO_AMIS_PATH", str(AMIS_PATH))
    command = [sys.executable, "-m", "adapters.aws.moto_server"]
    if seed_now is not None:
        command += ["--seed-now", seed_now.isoformat()]
    with tempfile.NamedTemporaryFile(
        "w", prefix="fintropy-moto-", suffix=".log", delete=False
    ) as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
            cwd=str(_ROOT),
        )
    return PendingMotoProcess(process, log.name)


def start_moto_process(*, seed_now: datetime | None = None, timeout: float = 120.0) -> MotoProcess:
    """Start moto in a child process and wait until it serves (and has seeded, if asked)."""
    return spawn_moto_process(seed_now=seed_now).wait(timeout)


def _serve(seed_now: str | None) -> None:
    """Child entry point: start moto, seed on request, print one JSON line, wait for EOF."""
    server, endpoint_url = start_moto_server()
    manifest: dict[str, Any] | None = None
    if seed_now:
        from adapters.aws.sandbox import seed_sandbox

        now = datetime.fromisoformat(seed_now)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        manifest = json.loads(seed_sandbox(endpoint_url, now).to_json())
    sys.stdout.write(json.dumps({"endpoint_url": endpoint_url, "manifest": manifest}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # returns when the parent closes our stdin (or exits)
    server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run a local moto server (optionally seeded).")
    parser.add_argument("--seed-now", help="seed the sandbox with ages relative to this time")
    _serve(parser.parse_args().seed_now)
