"""Shared test set-up: Qt renders offscreen (there is no display on CI)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
