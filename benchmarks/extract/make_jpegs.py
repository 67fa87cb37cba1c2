#!/usr/bin/env python3
"""Writes N seeded 224×224 JPEGs (smooth colour fields with texture) as DIR/<category>/<i>.jpg."""
import os
import sys

import numpy as np
from PIL import Image

out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:224, 0:224] / 224.0
for i in range(n):
    category = ("faces", "houses", "cars", "bodies")[i % 4]
    os.makedirs(os.path.join(out, category), exist_ok=True)
    f = rng.uniform(1, 8, (3, 2))
    phase = rng.uniform(0, 2 * np.pi, (3, 1, 1))
    img = 0.5 + 0.35 * np.sin(2 * np.pi * (f[:, :1, None] * xx + f[:, 1:, None] * yy) + phase)
    img = img + 0.08 * rng.standard_normal((3, 224, 224))
    pixels = (np.clip(img, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(pixels).save(os.path.join(out, category, f"{i:04d}.jpg"), quality=90)
