"""Build Tailbox's frozen bundle and its installers: `python installers/build.py`.

Linux:   dist/tailbox/ (PyInstaller onedir), dist/tailbox-<v>-linux-<machine>.tar.gz,
         dist/tailbox_<v>_<arch>.deb (installs to /opt/tailbox)
Windows: dist/tailbox/, dist/tailbox-<v>-setup.exe (NSIS, per user)

The frozen `tailbox --smoke-test` must pass (exit 0, nothing on stderr) before anything
is packaged, and again from the unpacked tarball. Needs the `build` extra:
`pip install -e .[build]`; on Linux also dpkg-deb, on Windows makensis (NSIS).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, the repository is not on sys.path
    sys.path.insert(0, str(ROOT))

from installers.bundle import project_version, windows_version  # noqa: E402

__all__ = [
    "BuildError",
    "compile_installer",
    "control_fields",
    "deb_control",
    "declared_depends",
    "main",
    "makensis",
    "smoke_test",
]

HERE = ROOT / "installers"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
BUNDLE = DIST / "tailbox"
WINDOWS = sys.platform == "win32"
EXE_SUFFIX = ".exe" if WINDOWS else ""
SMOKE_TIMEOUT_SECS = 120


class BuildError(Exception):
    """A step failed; the message says which and what to do."""


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, check=False)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(map(str, cmd))} failed with exit status {result.returncode}")


def tree_size(path: Path) -> int:
    """Bytes in the regular files under `path` (symbolic links not followed or counted)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB ({n / 2**20:.1f} MiB)"


# --- PyInstaller and the smoke test -------------------------------------------------


def run_pyinstaller() -> Path:
    try:
        import PyInstaller  # noqa: F401
    except ImportError as e:
        raise BuildError("PyInstaller is missing: pip install -e '.[build]'") from e
    _step("PyInstaller: installers/tailbox.spec -> dist/tailbox/")
    _run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level=WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(BUILD / "pyinstaller"),
            str(HERE / "tailbox.spec"),
        ],
        cwd=ROOT,
    )
    return BUNDLE


def smoke_test(executable: Path, check_stderr: bool = True) -> None:
    """Run `executable --smoke-test`; BuildError unless it exits 0 with an empty stderr.

    A windowed Windows executable has no stderr to read, so it is held to its exit
    status only (its console twin is held to both).
    """
    started = time.monotonic()
    try:
        result = subprocess.run(
            [str(executable), "--smoke-test"],
            capture_output=True,
            text=True,
            timeout=SMOKE_TIMEOUT_SECS,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise BuildError(f"{executable} --smoke-test hung for {SMOKE_TIMEOUT_SECS} s") from e
    elapsed = time.monotonic() - started
    if result.stdout:
        print(result.stdout.rstrip(), flush=True)
    if result.returncode != 0:
        raise BuildError(
            f"{executable} --smoke-test exited {result.returncode}:\n{result.stderr.rstrip()}"
        )
    if check_stderr and result.stderr.strip():
        raise BuildError(
            f"{executable} --smoke-test wrote to stderr (unexpected; a new Qt warning, a "
            f"missing plugin or library?):\n{result.stderr.rstrip()}"
        )
    print(f"    smoke test passed in {elapsed:.2f} s", flush=True)


# --- icons and the tarball -------------------------------------------------------------


def render_icons(directory: Path) -> dict[str, Path]:
    from installers import icons

    directory.mkdir(parents=True, exist_ok=True)
    svg = directory / "tailbox.svg"
    shutil.copyfile(icons.SVG, svg)
    return {
        "svg": svg,
        "png": icons.write_png(directory / "tailbox.png", 256),
        "ico": icons.write_ico(directory / "tailbox.ico"),
    }


def _xdg_share(into: Path, icons: dict[str, Path]) -> None:
    """share/applications/tailbox.desktop and share/icons/hicolor/... under `into`."""
    apps = into / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "linux" / "tailbox.desktop", apps / "tailbox.desktop")
    for subdir, key in (("256x256", "png"), ("scalable", "svg")):
        target = into / "icons" / "hicolor" / subdir / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icons[key], target / icons[key].name)


def _normalise_modes(tree: Path) -> None:
    """0755 for folders and executables, 0644 for the rest, whatever the umask was."""
    for path in [tree, *tree.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def make_tarball(bundle: Path, version: str, icons: dict[str, Path]) -> Path:
    """The onedir build with a menu entry, its icons and a script that installs them."""
    name = f"tailbox-{version}"
    stage = BUILD / "tarball" / name
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(bundle, stage, symlinks=True)
    _xdg_share(stage / "share", icons)
    shutil.copyfile(HERE / "linux" / "install-desktop-entry.sh", stage / "install-desktop-entry.sh")
    (stage / "install-desktop-entry.sh").chmod(0o755)
    _normalise_modes(stage)

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    out = DIST / f"{name}-linux-{platform.machine()}.tar.gz"
    _step(f"tarball: {out.relative_to(ROOT)}")
    with tarfile.open(out, "w:gz", compresslevel=9) as tar:
        tar.add(stage, arcname=name, filter=owned_by_root)
    return out


def check_tarball(tarball: Path, version: str) -> None:
    """Unpack the tarball somewhere else and smoke-test what came out of it."""
    _step("smoke test of the unpacked tarball")
    target = BUILD / "unpacked"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(target, filter="tar")
    smoke_test(target / f"tailbox-{version}" / "tailbox")


# --- the .deb ------------------------------------------------------------------------------


def _debian_architecture() -> str:
    if shutil.which("dpkg"):
        return subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        ).stdout.strip()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def _glibc_version() -> str:
    """This machine's glibc: the oldest a bundle built here is known to run on."""
    libc = platform.libc_ver()
    if libc[0] != "glibc":
        raise BuildError("the .deb needs a glibc build machine (Debian, Ubuntu)")
    return libc[1]


def deb_control(version: str, architecture: str, installed_size_kib: int, glibc: str) -> str:
    template = Template((HERE / "linux" / "control.in").read_text(encoding="utf-8"))
    return template.substitute(
        version=version,
        architecture=architecture,
        installed_size=installed_size_kib,
        glibc=glibc,
    )


def control_fields(control: str) -> dict[str, str]:
    """A control file's fields; continuation lines joined with a newline (RFC 822 style)."""
    fields: dict[str, str] = {}
    key = ""
    for line in control.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


def declared_depends(control: str) -> set[str]:
    """Package names in Depends (versions dropped, every alternative counted)."""
    depends = control_fields(control).get("Depends", "").replace("\n", " ")
    return {
        alternative.split("(")[0].strip().split(":")[0]
        for relation in depends.split(",")
        for alternative in relation.split("|")
        if alternative.strip()
    }


def external_libraries(bundle: Path) -> dict[str, str | None]:
    """Shared libraries the bundle's binaries load from the system (None: not found here).

    ldd with the bundle's folder on LD_LIBRARY_PATH, as PyInstaller's bootloader runs it.
    """
    internal = bundle / "_internal"
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    found: dict[str, str | None] = {}
    binaries = [bundle / "tailbox"] + [
        p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink()
    ]
    for binary in binaries:
        out = subprocess.run(
            ["ldd", str(binary)], capture_output=True, text=True, env=env, check=False
        ).stdout
        for line in out.splitlines():
            soname, arrow, where = line.strip().partition(" => ")
            if not arrow:
                continue
            path = where.split(" (")[0].strip()
            if path == "not found":
                found.setdefault(soname, None)
            elif not Path(path).resolve().is_relative_to(bundle.resolve()):
                found[soname] = path
    return found


def _owning_package(path: str) -> str | None:
    real = os.path.realpath(path)
    candidates = {path, real}
    for p in list(candidates):  # dpkg may know a merged-/usr file under either name
        candidates.add(p.removeprefix("/usr") if p.startswith("/usr/") else "/usr" + p)
    for candidate in sorted(candidates):
        result = subprocess.run(
            ["dpkg-query", "-S", candidate], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            return result.stdout.split(":")[0].strip()
    return None


def check_deb_depends(bundle: Path, control: str) -> None:
    """Every system library the bundle loads must come from a package Depends names."""
    if not shutil.which("dpkg-query"):
        print("    (no dpkg-query here: Depends not checked against the bundle)", flush=True)
        return
    declared = declared_depends(control)
    undeclared = []
    for soname, path in sorted(external_libraries(bundle).items()):
        if path is None:
            print(
                f"    note: {soname} is not installed on this machine; the .deb declares "
                "its package by hand (linux/control.in)",
                flush=True,
            )
            continue
        package = _owning_package(path)
        if package is None:
            undeclared.append(f"{soname} ({path}: no package owns it)")
        elif package not in declared:
            undeclared.append(f"{soname} from package {package}")
    if undeclared:
        raise BuildError(
            "the bundle loads system libraries installers/linux/control.in does not "
            "declare in Depends:\n  " + "\n  ".join(undeclared)
        )


def make_deb(bundle: Path, version: str, icons: dict[str, Path]) -> Path:
    """/opt/tailbox, /usr/bin/tailbox (a link), a menu entry and icons, built by dpkg-deb."""
    if not shutil.which("dpkg-deb"):
        raise BuildError("dpkg-deb is missing: apt-get install dpkg")
    architecture = _debian_architecture()
    stage = BUILD / "deb" / f"tailbox_{version}_{architecture}"
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(bundle, stage / "opt" / "tailbox", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "tailbox").symlink_to("/opt/tailbox/tailbox")
    _xdg_share(stage / "usr" / "share", icons)
    doc = stage / "usr" / "share" / "doc" / "tailbox"
    doc.mkdir(parents=True)
    shutil.copyfile(HERE / "linux" / "copyright", doc / "copyright")
    _normalise_modes(stage)

    control = deb_control(version, architecture, tree_size(stage) // 1024 + 1, _glibc_version())
    check_deb_depends(bundle, control)
    (stage / "DEBIAN").mkdir(mode=0o755)
    (stage / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    out = DIST / f"{stage.name}.deb"
    _step(f"deb: {out.relative_to(ROOT)}")
    _run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(stage), str(out)])
    return out


# --- the Windows installer ------------------------------------------------------------------


def makensis() -> str:
    """The makensis command: on PATH, or where the NSIS Windows installer puts it."""
    found = shutil.which("makensis")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "NSIS" / "makensis.exe").is_file():
            return str(Path(base) / "NSIS" / "makensis.exe")
    raise BuildError(
        "makensis (NSIS) is missing: apt-get install nsis on Debian/Ubuntu, "
        "choco install nsis on Windows"
    )


def compile_installer(
    payload: Path, out: Path, version: str, icon: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Compile installers/windows/tailbox.nsi around `payload` (a onedir folder) into `out`.

    Warnings are errors (-WX): NSIS warns about real mistakes (a missing file, an unused
    section, an unsafe output name).
    """
    cmd = [
        makensis(),
        "-V2",
        "-WX",
        f"-DVERSION={version}",
        f"-DVIVERSION={windows_version(version)}",
        f"-DPAYLOAD={payload}",
        f"-DOUTFILE={out}",
    ]
    if icon is not None:
        cmd.append(f"-DICON={icon}")
    cmd.append(str(HERE / "windows" / "tailbox.nsi"))
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def make_windows_installer(bundle: Path, version: str, icons: dict[str, Path]) -> Path:
    out = DIST / f"tailbox-{version}-setup.exe"
    _step(f"NSIS: {out.relative_to(ROOT)}")
    result = compile_installer(bundle, out, version, icons["ico"])
    if result.returncode != 0:
        raise BuildError(f"makensis failed:\n{result.stdout}{result.stderr}")
    return out


# --- main --------------------------------------------------------------------------------------


def build() -> dict[str, Path]:
    version = project_version()
    bundle = run_pyinstaller()
    _step("smoke test of the frozen build")
    smoke_test(bundle / f"tailbox{EXE_SUFFIX}", check_stderr=not WINDOWS)
    if WINDOWS:
        smoke_test(bundle / "tailbox-debug.exe")
    icons = render_icons(BUILD / "icons")
    artifacts = {"onedir": bundle}
    if WINDOWS:
        artifacts["installer"] = make_windows_installer(bundle, version, icons)
    else:
        artifacts["tarball"] = make_tarball(bundle, version, icons)
        check_tarball(artifacts["tarball"], version)
        artifacts["deb"] = make_deb(bundle, version, icons)
    return artifacts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke-test",
        metavar="EXECUTABLE",
        type=Path,
        help="build nothing: hold an existing tailbox (say the installed one) to the "
        "smoke test (exit 0, nothing on stderr)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.smoke_test:
            smoke_test(args.smoke_test)
            return 0
        artifacts = build()
    except BuildError as e:
        print(f"build.py: FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    print(f"\nBuilt in {time.monotonic() - started:.0f} s:")
    for kind, path in artifacts.items():
        size = tree_size(path) if path.is_dir() else path.stat().st_size
        print(f"  {kind:<9} {path.relative_to(ROOT)}  {_mb(size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
