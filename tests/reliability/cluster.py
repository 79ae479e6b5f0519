"""A throwaway PostgreSQL cluster a test may restart (never the shared one on 5432).

``initdb`` + ``pg_ctl`` run as the ``postgres`` OS user (PostgreSQL refuses root) in a
fresh directory under /tmp, listening on a free port of 127.0.0.1 with trust auth.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port


def postgres_bin() -> Path | None:
    """The newest installed server's bin directory, if initdb is there."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@dataclass
class Cluster:
    bin: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def pg_ctl(self, *args: str) -> None:
        # No pipes: the postmaster inherits them and would keep them open for ever.
        subprocess.run(_as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), *args),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.pg_ctl("start", "-w", "-l", str(self.root / "server.log"), "-o", options)

    def restart(self) -> None:
        """Fast shutdown (open connections are cut) and start again, as an operator would."""
        self.pg_ctl("restart", "-w", "-m", "fast", "-l", str(self.root / "server.log"))

    def stop(self) -> None:
        self.pg_ctl("stop", "-w", "-m", "immediate")


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A running cluster; raises LookupError when PostgreSQL's server binaries are absent."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise LookupError("initdb not found under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="ifproof-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(bin_dir, root, free_port())
    try:
        subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-D", str(cluster.data), "-A",
                                    "trust", "-U", "postgres", "--no-sync"),
                       check=True, capture_output=True, timeout=120)
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
