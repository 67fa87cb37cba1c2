#!/usr/bin/env python3
"""Makes the tiny `shapes` stimulus set: 3 categories x 4 grey 32x32 PNGs in the folder layout
(stimuli/shapes/<category>/<image>.png), the same images as a CSV manifest (stimuli/shapes.csv)
and, with --h5, as a 12x32x32 uint8 array with `stimulus` and `category` beside it (the
`file.h5:/dataset` layout; stimuli/shapes.h5, not committed). Seeded, so every run writes the same pixels. Needs python3-numpy and python3-pil
(python3-h5py for --h5).

    /usr/bin/python3 stimuli/make_shapes.py [--h5]
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw

SIZE = 32
CATEGORIES = ("circle", "square", "triangle")
PER_CATEGORY = 4


def draw(category, rng):
    """One shape at a random position, size and contrast on a flat background."""
    background, foreground = (int(v) for v in rng.choice([[32, 224], [224, 32], [96, 255]]))
    image = Image.new("L", (SIZE, SIZE), background)
    r = int(rng.integers(6, 11))
    cx, cy = (int(v) for v in rng.integers(r + 1, SIZE - r - 1, size=2))
    canvas = ImageDraw.Draw(image)
    if category == "circle":
        canvas.ellipse([cx - r, cy - r, cx + r, cy + r], fill=foreground)
    elif category == "square":
        canvas.rectangle([cx - r, cy - r, cx + r, cy + r], fill=foreground)
    else:
        canvas.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=foreground)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                        help="folder that receives shapes/, shapes.csv (and shapes.h5)")
    parser.add_argument("--h5", action="store_true", help="also write shapes.h5:/images")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows, images = [], []
    for category in CATEGORIES:
        os.makedirs(os.path.join(args.out, "shapes", category), exist_ok=True)
        for i in range(PER_CATEGORY):
            image = draw(category, rng)
            path = f"shapes/{category}/{category}-{i}.png"
            image.save(os.path.join(args.out, path), optimize=True)
            rows.append(f"{path},{category},{category}-{i}")
            images.append(np.asarray(image))
    with open(os.path.join(args.out, "shapes.csv"), "w") as f:
        f.write("path,category,id\n" + "\n".join(rows) + "\n")
    if args.h5:
        import h5py

        strings = h5py.string_dtype()
        with h5py.File(os.path.join(args.out, "shapes.h5"), "w") as f:
            f["images"] = np.stack(images)
            f["stimulus"] = np.array([row.split(",")[2] for row in rows], dtype=strings)
            f["category"] = np.array([row.split(",")[1] for row in rows], dtype=strings)


if __name__ == "__main__":
    main()
