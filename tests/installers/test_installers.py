"""The release engineering, checked without a PyInstaller build (that takes minutes).

The spec's hidden imports and data files, the Qt trim, the .desktop entry, the .deb's
control file, the NSIS script (compiled by a real makensis) and the CI workflow.
"""

import configparser
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from installers import bundle, icons
from installers.build import (
    BuildError,
    compile_installer,
    control_fields,
    deb_control,
    declared_depends,
    makensis,
)

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "installers" / "linux"
DESKTOP = LINUX / "tailbox.desktop"
linux_only = pytest.mark.skipif(sys.platform == "win32", reason="Linux packaging")

# What Qt's xcb platform plugin loads beyond libxcb itself (Qt's "X11 requirements").
XCB_PACKAGES = {
    "libxcb1",
    "libx11-xcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
}


def _write_plugins_yml(path, sections):
    body = {name: [{"import": m} for m in modules] for name, modules in sections.items()}
    path.write_text(yaml.safe_dump({"plugins": body}), encoding="utf-8")
    return path


# --- the spec ----------------------------------------------------------------------------


def test_hidden_imports_are_every_module_in_plugins_yml():
    data = yaml.safe_load((ROOT / "plugins.yml").read_text(encoding="utf-8"))["plugins"]
    listed = {entry["import"] for section in data.values() for entry in section or []}
    assert set(bundle.hidden_imports()) == listed
    assert len(bundle.hidden_imports()) == len(listed)


def test_hidden_imports_include_other_platforms_sections(tmp_path):
    path = _write_plugins_yml(
        tmp_path / "plugins.yml",
        {
            "common": ["plugins.input.file"],
            "linux": ["plugins.input.journal"],
            "windows": ["plugins.input.wineventlog", "plugins.input.file"],
        },
    )
    assert bundle.hidden_imports(path) == [
        "plugins.input.file",
        "plugins.input.journal",
        "plugins.input.wineventlog",
    ]


def test_the_spec_takes_imports_data_and_trim_from_the_helpers():
    spec = (ROOT / "installers" / "tailbox.spec").read_text(encoding="utf-8")
    assert "hiddenimports=bundle.hidden_imports()" in spec
    assert "datas=bundle.data_files()" in spec
    assert "bundle.trim_qt(a.binaries)" in spec
    assert "bundle.trim_qt(a.datas)" in spec
    # onedir: the executables leave the libraries to COLLECT's folder.
    assert "exclude_binaries=True" in spec and "COLLECT(" in spec


def test_data_files_put_plugins_yml_at_the_bundle_root_and_keep_plugin_data():
    datas = bundle.data_files()
    assert (str(ROOT / "plugins.yml"), ".") in datas
    defaults = {Path(src).name for src, dest in datas if dest == "agent/defaults"}
    assert defaults == {p.name for p in (ROOT / "agent" / "defaults").glob("*.yml")}
    for module in bundle.plugin_modules():
        folder = "/".join(module.split("."))
        samples = [s for s, d in datas if d == folder and Path(s).name == "sample.yml"]
        assert samples, f"{module}: its sample.yml is not bundled"
    assert not [s for s, _ in datas if s.endswith((".py", ".pyc"))]


@pytest.mark.parametrize(
    "name",
    [
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/translations/qtbase_de.qm",
        "PySide6/Qt/qml/QtQuick/libqtquick2plugin.so",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt6Qml.dll",
        "PySide6/opengl32sw.dll",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6\\plugins\\platforms\\qdirect2d.dll",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libivi-shell.so",
    ],
)
def test_qt_trim_drops(name):
    assert not bundle.keep_qt_file(name)


@pytest.mark.parametrize(
    "name",
    [
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt6Widgets.dll",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6\\plugins\\platforms\\qwindows.dll",
        "PySide6/plugins/styles/qmodernwindowsstyle.dll",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "plugins.yml",
        "plugins/input/file/sample.yml",
        "libpython3.12.so.1.0",
    ],
)
def test_qt_trim_keeps(name):
    assert bundle.keep_qt_file(name)


def test_trim_takes_the_links_to_trimmed_libraries_along():
    toc = [
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/site/libQt6Quick.so.6", "BINARY"),
        ("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/site/libQt6Gui.so.6", "BINARY"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
    ]
    assert [e[0] for e in bundle.trim_qt(toc)] == [
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "libQt6Gui.so.6",
    ]


def test_prune_keeps_what_roots_link_to_and_drops_the_rest():
    toc = [
        ("PySide6/QtGui.abi3.so", "/s/QtGui.abi3.so", "EXTENSION"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/s/libQt6Gui.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", "/s/libQt6XcbQpa.so.6", "BINARY"),
        ("libxcb-cursor.so.0", "/usr/lib/libxcb-cursor.so.0", "BINARY"),
        ("libcairo.so.2", "/usr/lib/libcairo.so.2", "BINARY"),  # only the trimmed qgtk3's
        ("libcairo-link.so", "libcairo.so.2", "SYMLINK"),
        ("plugins.yml", "/r/plugins.yml", "DATA"),
    ]
    links: dict[str, list[tuple[str, str | None]]] = {
        "/s/QtGui.abi3.so": [("libQt6Gui.so.6", "/s/libQt6Gui.so.6")],
        "/s/libqxcb.so": [("libQt6XcbQpa.so.6", None)],
        "/s/libQt6XcbQpa.so.6": [("libxcb-cursor.so.0", "/usr/lib/libxcb-cursor.so.0")],
    }
    kept = bundle.prune_unreachable(toc, lambda path: links.get(path, []))
    assert [e[0] for e in kept] == [
        "PySide6/QtGui.abi3.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/lib/libQt6XcbQpa.so.6",
        "libxcb-cursor.so.0",
        "plugins.yml",
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1.0", "0.1.0.0"), ("1.2", "1.2.0.0"), ("2.3.4rc1", "2.3.4.0"), ("1.2.3.4", "1.2.3.4")],
)
def test_windows_version_has_four_numbers(version, expected):
    assert bundle.windows_version(version) == expected


def test_version_file_names_the_product_and_version(tmp_path):
    pytest.importorskip("pyinstaller_versionfile", reason="the `build` extra is not installed")
    text = bundle.write_version_file(tmp_path / "v.txt", "1.2.3").read_text(encoding="utf-8")
    assert "filevers=(1,2,3,0)" in text.replace(" ", "")
    assert "'ProductName', 'Tailbox'" in text.replace("u'", "'")
    assert "'OriginalFilename', 'tailbox.exe'" in text.replace("u'", "'")


def test_the_icons_render_from_the_svg(tmp_path):
    png = icons.png_bytes(48)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    ico = icons.write_ico(tmp_path / "tailbox.ico").read_bytes()
    assert ico[:6] == b"\0\0\1\0" + len(icons.ICO_SIZES).to_bytes(2, "little")


# --- Linux: the .desktop entry, the tarball's script, the .deb ------------------------------


def _desktop_entry(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_launches_tailbox_with_its_icon():
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Tailbox"
    assert entry["Exec"] == "tailbox"  # /usr/bin/tailbox from the .deb
    assert entry["Icon"] == "tailbox"  # share/icons/hicolor/*/apps/tailbox.{png,svg}
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    # Qt names the window's X11 class after QApplication.applicationName().
    assert entry["StartupWMClass"] == "Tailbox"


def _desktop_file_validate():
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.fail(
            "desktop-file-validate is missing: `.ci/run` installs it "
            "(apt-get install -y desktop-file-utils)"
        )
    return tool


@linux_only
def test_desktop_entry_validates():
    result = subprocess.run(
        [_desktop_file_validate(), str(DESKTOP)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@linux_only
def test_tarball_script_installs_a_valid_entry_for_a_folder_with_odd_characters(tmp_path):
    folder = tmp_path / 'un packed $`"%\\x'
    apps = folder / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy(DESKTOP, apps)
    for subdir, name in (("256x256", "tailbox.png"), ("scalable", "tailbox.svg")):
        (folder / "share" / "icons" / "hicolor" / subdir / "apps").mkdir(parents=True)
        (folder / "share" / "icons" / "hicolor" / subdir / "apps" / name).write_bytes(b"x")
    shutil.copy(LINUX / "install-desktop-entry.sh", folder)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    subprocess.run(["sh", str(folder / "install-desktop-entry.sh")], env=env, check=True)
    installed = tmp_path / "data" / "applications" / "tailbox.desktop"
    result = subprocess.run(
        [_desktop_file_validate(), str(installed)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout
    # The Desktop Entry spec's two escaping layers: inside the quotes \ " ` $ take a
    # backslash, then the string escapes double every backslash; % is doubled.
    quoted = str(folder).replace("\\", "\\\\")
    for char in '"`$':
        quoted = quoted.replace(char, "\\" + char)
    quoted = quoted.replace("\\", "\\\\").replace("%", "%%")
    assert _desktop_entry(installed)["Exec"] == f'"{quoted}/tailbox"'
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "tailbox.svg").exists()


def test_deb_control_declares_the_xcb_libraries_and_glibc():
    control = deb_control("0.1.0", "amd64", 120_000, "2.36")
    assert "$" not in control
    fields = control_fields(control)
    assert fields["Package"] == "tailbox"
    assert fields["Version"] == "0.1.0"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "120000"
    assert "libc6 (>= 2.36)" in fields["Depends"]
    assert declared_depends(control) >= XCB_PACKAGES
    assert control.endswith("\n")


@linux_only
@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="dpkg-deb is Debian's")
def test_deb_control_is_accepted_by_dpkg_deb(tmp_path):
    stage = tmp_path / "tailbox"
    (stage / "DEBIAN").mkdir(parents=True)
    (stage / "DEBIAN" / "control").write_text(
        deb_control("0.1.0", "amd64", 1, "2.36"), encoding="utf-8"
    )
    out = tmp_path / "tailbox.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(stage), str(out)],
        check=True,
        capture_output=True,
    )
    depends = subprocess.run(
        ["dpkg-deb", "--field", str(out), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    assert "libxcb-cursor0" in depends


# --- Windows: the NSIS script ----------------------------------------------------------------


def _makensis():
    try:
        return makensis()
    except BuildError:
        pytest.fail(
            "makensis is missing: `.ci/run` installs it (apt-get install -y nsis); "
            "on Windows, choco install nsis"
        )


def test_nsis_script_compiles_against_a_placeholder_payload(tmp_path):
    _makensis()
    payload = tmp_path / "tailbox"
    (payload / "_internal").mkdir(parents=True)
    for name in ("tailbox.exe", "tailbox-debug.exe", "_internal/base_library.zip"):
        (payload / name).write_bytes(b"placeholder")
    out = tmp_path / "tailbox-0.1.0-setup.exe"
    icon = icons.write_ico(tmp_path / "tailbox.ico")
    result = compile_installer(payload, out, "0.1.0", icon)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes()[:2] == b"MZ"


def test_nsis_script_refuses_to_compile_without_a_payload(tmp_path):
    _makensis()
    result = compile_installer(tmp_path / "missing", tmp_path / "tailbox-setup.exe", "0.1.0")
    assert result.returncode != 0


def test_nsis_script_keeps_user_data_unless_asked_and_uses_the_guis_run_key():
    nsi = (ROOT / "installers" / "windows" / "tailbox.nsi").read_text(encoding="utf-8")
    from gui.autostart import RUN_KEY, VALUE_NAME

    assert "RequestExecutionLevel user" in nsi
    assert f'!define RUN_KEY "{RUN_KEY}"' in nsi
    assert f'!define RUN_VALUE "{VALUE_NAME}"' in nsi
    # The section removing the user's data is optional and off unless chosen (/o).
    assert 'Section /o "un.Also remove my pipelines, settings and checkpoints"' in nsi


# --- CI and packaging metadata ------------------------------------------------------------------


def test_workflow_builds_smoke_tests_and_uploads_on_linux_and_windows():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "build.yml").read_text("utf-8"))
    jobs = workflow["jobs"]
    runners = {name: job["runs-on"] for name, job in jobs.items()}
    assert any("ubuntu" in r for r in runners.values()), runners
    assert any("windows" in r for r in runners.values()), runners
    for name, job in jobs.items():
        steps = job["steps"]
        text = "\n".join(str(s.get("run", "")) for s in steps)
        assert "python installers/build.py" in text, name
        assert any(str(s.get("uses", "")).startswith("actions/upload-artifact") for s in steps)
        assert any(s.get("with", {}).get("python-version") == "3.12" for s in steps), name
        if "windows" in runners[name]:
            assert "python -m pytest" in text


def test_build_extra_has_pyinstaller_and_the_version_file_tool():
    with (ROOT / "pyproject.toml").open("rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    names = {req.split(">")[0].split("=")[0].split("<")[0].strip() for req in extras["build"]}
    assert {"pyinstaller", "pyinstaller-versionfile"} <= names
