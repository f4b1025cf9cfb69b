"""A private rsyslog instance (imfile → omfile) as the C peer: installed from Debian if missing."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from benchmarks.procs import pinned

__all__ = ["Rsyslog", "ensure_rsyslog", "rsyslog_version"]

_CONF = """\
# A private instance for the benchmark: its own work directory, no system inputs.
global(workDirectory="{work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
template(name="raw" type="string" string="%msg%\\n")
ruleset(name="bench") {{
  action(type="omfile" file="{out}" template="raw")
}}
input(type="imfile" file="{pattern}" tag="bench" ruleset="bench" freshStartTail="off")
"""


def _rsyslogd() -> str | None:
    return shutil.which("rsyslogd") or (
        "/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None
    )


def ensure_rsyslog() -> str:
    """The rsyslogd path; runs `apt-get install -y rsyslog` first when it is missing."""
    path = _rsyslogd()
    if path:
        return path
    print("rsyslogd is missing: apt-get install -y rsyslog", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "rsyslog"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        subprocess.run(install, env=env, capture_output=True, check=True)
    path = _rsyslogd()
    if not path:
        raise RuntimeError("rsyslog was installed but rsyslogd is not on the PATH")
    return path


def rsyslog_version() -> str:
    path = _rsyslogd()
    if not path:
        return ""
    out = subprocess.run([path, "-v"], capture_output=True, text=True).stdout
    m = re.search(r"rsyslogd\s+([\d.]+)", out)
    return m.group(1) if m else out.split("\n", 1)[0]


class Rsyslog:
    """One foreground rsyslogd (`-n -f conf -i pidfile`) reading `pattern` into `output`."""

    def __init__(self, home: Path, pattern: str, output: Path, core: int | None = 0) -> None:
        self.home = home
        self.pattern = pattern
        self.output = output
        self.core = core
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        binary = ensure_rsyslog()
        shutil.rmtree(self.home, ignore_errors=True)
        work = self.home / "work"
        work.mkdir(parents=True)
        self.output.unlink(missing_ok=True)
        conf = self.home / "rsyslog.conf"
        conf.write_text(_CONF.format(work=work, out=self.output, pattern=self.pattern))
        cmd = [binary, "-n", "-f", str(conf), "-i", str(self.home / "rsyslogd.pid")]
        if self.core is not None:
            cmd = pinned(cmd, self.core)
        log = open(self.home / "rsyslogd.log", "wb")  # noqa: SIM115 - handed to the child
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Rsyslog:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
