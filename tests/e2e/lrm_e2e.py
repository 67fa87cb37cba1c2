"""Helpers for the end-to-end tests: run the lrm binary and keep score of named checks."""
import os
import subprocess
import sys
import tempfile


class Checks:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0
        self.lrm = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/lrm"
        self.tmp = tempfile.mkdtemp(prefix=f"lrm_{name}_")

    def run(self, *args, check=True, quiet=True, **kw):
        flags = ["--quiet"] if quiet else []
        p = subprocess.run([self.lrm, *flags, *args], capture_output=True, text=True, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"lrm {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
        return p

    def runner(self, *flags):
        """lrm with these flags first (a --seed, say), returning the process whatever its exit status."""
        return lambda *args: self.run(*flags, *args, check=False)

    def check(self, label, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {label}")
        else:
            self.failed += 1
            print(f"FAIL {label} {detail}")

    def bad_input(self, label, args, must_name):
        """Bad input: exit status 2 and one line that names the input."""
        p = self.run(*args, check=False)
        lines = [l for l in p.stderr.strip().splitlines() if l]
        self.check(f"bad input: {label}", p.returncode == 2 and len(lines) == 1 and must_name in p.stderr,
                   f"(status {p.returncode}, stderr {p.stderr.strip()!r})")

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def write_bar_images(folder, counts, size, step, rng):
    """A labelled image folder (one subfolder per category, `counts[name]` PNGs each): dim noise
    with a bright bar at a category-specific row (rows step/2 + step*k, step/2 high), which a small
    model learns quickly."""
    from PIL import Image
    import numpy as np
    for k, (name, n) in enumerate(counts.items()):
        os.makedirs(os.path.join(folder, name))
        for i in range(n):
            im = rng.integers(0, 60, size=(size, size)).astype(np.uint8)
            top = step // 2 + step * k
            im[top:top + step // 2, 4:size - 4] = 255
            Image.fromarray(im).save(os.path.join(folder, name, f"{i:02d}.png"))


def write_lines(path, items):
    """One item a line: a list of stimulus ids or rows (--test-ids, --indices)."""
    with open(path, "w") as f:
        f.write("".join(f"{item}\n" for item in items))


def write_activations(path, models, ids):
    """An activations file in the README layout: `models` maps "layer/passN" to a stimuli x units
    array (written as float32); `ids` lists the stimuli, or maps each layer to its own list."""
    import h5py
    import numpy as np
    with h5py.File(path, "w") as f:
        for model, x in models.items():
            layer = model.split("/")[0]
            g = f.require_group(f"activations/{layer}")
            if "stimulus" not in g:
                g["stimulus"] = np.array(ids[layer] if isinstance(ids, dict) else ids, dtype=object)
            f[f"activations/{model}"] = x.astype(np.float32)
