"""House rules that a reviewer should not have to check by hand: ruff lint and format."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = ["agent", "plugins", "gui", "tests", "benchmarks", "installers"]


def run_ruff(*args):
    trees = [t for t in TREES if (ROOT / t).exists()]
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *trees], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_lint_is_clean():
    result = run_ruff("check", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run_ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
