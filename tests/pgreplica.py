"""A PostgreSQL primary and a streaming hot standby on loopback ports, made with the server programs
the `pgserver` wheel ships (initdb, pg_ctl, pg_basebackup): for the replica test and bench/replica.

As root, the servers run as the user `pgserver` creates for its own servers (PostgreSQL refuses
to run as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from serving import free_port

START_SECONDS = 60


@dataclass
class Cluster:
    """One PostgreSQL server: its data folder, port and the programs to run it with."""

    data: Path
    port: int
    bin: Path
    user: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str, timeout: float = START_SECONDS) -> str:
        done = subprocess.run(
            [str(self.bin / program), *args], capture_output=True, text=True, timeout=timeout, user=self.user,
            cwd="/",
        )
        if done.returncode != 0:
            log_file = self.data / "server.log"
            log = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed: {done.stderr.strip()}\n{log}")
        return done.stdout

    def start(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data), "-w", "-t", str(START_SECONDS), "-l", str(self.data / "server.log"),
            "-o", f"-p {self.port} -h 127.0.0.1 -k {self.data}", "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self.run("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(database), "-c", sql)


def programs() -> tuple[Path, str | None]:
    """The server programs of the pgserver wheel, and the user to run them as (None: ourselves)."""
    from pgserver._commands import POSTGRES_BIN_PATH

    user = None
    if os.geteuid() == 0:
        from pgserver.utils import ensure_user_exists

        user = "pgserver"
        ensure_user_exists(user)
    return POSTGRES_BIN_PATH, user


@contextmanager
def primary_and_standby(root: Path) -> Iterator[tuple[Cluster, Cluster]]:
    """A primary (streaming WAL) and a hot standby made from its base backup, both stopped at the end."""
    bin_path, user = programs()
    root.mkdir(parents=True, exist_ok=True)
    if user:
        from pgserver.utils import ensure_prefix_permissions

        ensure_prefix_permissions(root)  # the servers' user must pass through the folders above
        shutil.chown(root, user)
    primary = Cluster(root / "primary", free_port(), bin_path, user)
    standby = Cluster(root / "standby", free_port(), bin_path, user)
    primary.run("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "--no-sync")
    with (primary.data / "postgresql.conf").open("a") as conf:
        conf.write("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n")
    started: list[Cluster] = []
    try:
        primary.start()
        started.append(primary)
        primary.run(
            "pg_basebackup", "-D", str(standby.data), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-R", "-X", "stream", "--no-sync",
        )
        standby.start()
        started.append(standby)
        deadline = time.monotonic() + START_SECONDS
        while standby.psql("SELECT pg_is_in_recovery()").strip() != "t" or not primary.psql(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        ).strip().startswith("1"):
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not start streaming")
            time.sleep(0.2)
        yield primary, standby
    finally:
        for cluster in reversed(started):
            try:
                cluster.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
