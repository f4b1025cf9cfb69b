"""Release engineering: the PyInstaller spec's helpers, the icons and the build script."""
