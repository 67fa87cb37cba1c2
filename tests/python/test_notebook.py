"""examples/notebook.py runs from top to bottom and makes its two figures."""
import os
import subprocess
import sys

from conftest import BUILD_PACKAGE, ROOT


def test_notebook_runs_and_makes_two_figures(tmp_path):
    env = dict(os.environ, LRM_NOTEBOOK_OUT=str(tmp_path), MPLBACKEND="Agg")
    env.setdefault("PYTHONPATH", BUILD_PACKAGE)
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "notebook.py")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path)) == ["localizer.png", "rsa_encoding.png"]
    assert "noise ceiling" in done.stdout
