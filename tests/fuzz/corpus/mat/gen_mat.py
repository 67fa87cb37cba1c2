"""Writes the .mat seeds: an rsatoolbox-style struct array of RDMs, a numeric n x n x k array, and
a struct array of uint8 images with a category field (v5 format, as scipy writes it)."""
import numpy as np
import scipy.io

rng = np.random.default_rng(0)
def rdm(n):
    m = rng.random((n, n))
    m = (m + m.T) / 2
    np.fill_diagonal(m, 0)
    return m

rdms = np.zeros((1, 2), dtype=[("RDM", object), ("name", object)])
for i in range(2):
    rdms[0, i] = (rdm(5), f"subject{i}")
scipy.io.savemat("rdms_struct.mat", {"rdms": rdms})
scipy.io.savemat("rdms_numeric.mat", {"rdms": np.stack([rdm(4), rdm(4)], axis=2)})
images = np.zeros((1, 2), dtype=[("image", object), ("category", object)])
for i in range(2):
    images[0, i] = (rng.integers(0, 255, (6, 5, 3), dtype=np.uint8), f"cat{i}")
scipy.io.savemat("images.mat", {"stimuli": images})
scipy.io.savemat("rdms_struct_z.mat", {"rdms": rdms}, do_compression=True)
