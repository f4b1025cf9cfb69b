"""The frozen build's entry script: `tailbox` as PyInstaller starts it."""

import os
import sys

# A windowed (no console) Windows build starts with sys.stdout/stderr set to None;
# anything that writes to them directly would crash the app, so point them at nothing.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115

from agent.cli import main  # noqa: E402

sys.exit(main())
