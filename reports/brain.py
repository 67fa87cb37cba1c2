#!/usr/bin/python3
"""Brain maps: the per-voxel held-out r of each layer and pass (and of a banded ridge model, with
each feature group's penalty) back on the brain, from `lrm compare encode` on NIfTI betas. The
voxels are the neuroids, whose ids "i_j_k" are their indices in the betas' grid. The maps are drawn
in that whole grid with axes in world millimetres when the group records it (attributes
grid_shape and affine, which lrm compare encode writes for NIfTI betas: voxel centres through the
affine); otherwise in voxel indices, cropped to the voxels scored. NaN (voxels not scored) is grey:

  brain-slices-<data>  rows: one map each; columns: axial slices (fixed k) through the voxels
  brain-glass-<data>   rows: one r map each; columns: glass-brain-style maximum projections
                       along i (sagittal), j (coronal) and k (axial)

Each image keeps the voxel grid's rows and columns (columns the first remaining voxel axis, rows
the second); in world millimetres each axis is named for the world axis (x, y, z) its voxel axis
runs along most, with the voxel centres' coordinates on the line through the grid's centre (exact
for an axis-aligned affine, as NSD's), increasing to the right and upwards.

r is the mean over splits; a penalty the geometric mean over splits (log10 shown). The same
values are in the NIfTI maps that --write-nifti writes, which nilearn or fsleyes open directly.
Reads /<prefix>/encoding/r (model, split, neuroid) and /<prefix>/banded/{r, penalty}, and their
attributes grid_shape and affine when present. Usable
alone:
    /usr/bin/python3 reports/brain.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

import lrm_results as R

KIND = "brain"
TITLE = "Brain maps: per-voxel r per layer and pass (slices and maximum projections)"
ABSENT = "voxel scores (lrm compare encode on NIfTI betas: /encoding/r over voxels i_j_k)"
MAX_SLICES = 6
PROJECTIONS = [("sagittal", 0), ("coronal", 1), ("axial", 2)]  # name, axis projected out


def voxel_indices(ids):
    """(n, 3) grid indices of voxel ids "i_j_k", or None when an id is not one."""
    out = []
    for s in ids:
        parts = s.split("_")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        out.append([int(p) for p in parts])
    return np.array(out, dtype=int).reshape(-1, 3)


def read_grid(ds):
    """(shape, 4 x 4 affine) of the betas' grid as the group records it, or None (files from before
    it was recorded, HDF5 betas without a grid)."""
    if "grid_shape" not in ds.attrs or "affine" not in ds.attrs:
        return None
    shape = tuple(int(n) for n in np.ravel(ds.attrs["grid_shape"]))
    return shape, np.asarray(ds.attrs["affine"], dtype=float).reshape(4, 4)


def volume(ijk, values, grid=None):
    """Values in the whole grid when it is known, else in the voxels' bounding box (NaN
    elsewhere), and the volume's first index in the grid."""
    low = np.zeros(3, dtype=int) if grid else ijk.min(0)
    vol = np.full(grid[0] if grid else ijk.max(0) - low + 1, np.nan)
    vol[tuple((ijk - low).T)] = values
    return vol, low


def world_axes(grid):
    """Per voxel axis: the world axis it runs along most ("x", "y" or "z"), the world coordinate
    (mm) of its first voxel centre on the line through the grid's centre, and the step per
    voxel."""
    shape, affine = grid
    centre = (np.array(shape, dtype=float) - 1) / 2
    axes = []
    for a in range(3):
        w = int(np.argmax(np.abs(affine[:3, a])))
        first = centre.copy()
        first[a] = 0
        axes.append(("xyz"[w], float(affine[w, :3] @ first + affine[w, 3]), float(affine[w, a])))
    return axes


def axial(vol, k):
    """Slice k of the volume as an image: rows j, columns i."""
    return vol[:, :, k].T


def projection(vol, axis):
    """The maximum along `axis` (NaN where every voxel is NaN) as an image with the first
    remaining axis as columns."""
    finite = np.isfinite(vol).any(axis)
    with np.errstate(invalid="ignore"):
        m = np.where(finite, np.nanmax(np.where(np.isfinite(vol), vol, -np.inf), axis), np.nan)
    return m.T


def slice_indices(vol):
    """Up to MAX_SLICES axial slices holding voxels, evenly spread."""
    ks = [k for k in range(vol.shape[2]) if np.isfinite(vol[:, :, k]).any()]
    if len(ks) <= MAX_SLICES:
        return ks
    return [ks[int(round(i))] for i in np.linspace(0, len(ks) - 1, MAX_SLICES)]


def data_name(f, path, name):
    """The brain data's name for file names: its prefix group, else the betas' file stem."""
    label = R.brain_label(f, path, name)
    return R.slug(label[:-4] if label.endswith(".nii") else label)


def grid_of(ds, ijk):
    """The group's grid when it records one that holds every voxel id, else None."""
    grid = read_grid(ds)
    return grid if grid and np.all(ijk < np.array(grid[0])) else None


def read_maps(f):
    """One entry per encoding or banded group over voxels: its r maps (label, values) and, for
    banded ridge, the log10 penalty map of each group; and the betas' grid when recorded."""
    items = []
    for path, ds in R.analyses(f, "encoding", "r"):
        ijk = voxel_indices(R.strings(ds["neuroid"]))
        if ijk is None:
            continue
        r = ds["r"].transpose("model", "split", "neuroid")
        maps = [(m, np.nanmean(R.floats(r.isel(model=i)), axis=0))
                for i, m in enumerate(R.strings(ds["model"]))]
        items.append(dict(name=data_name(f, path, "encoding"), path=path, ijk=ijk,
                          grid=grid_of(ds, ijk), r=maps, penalty=[]))
    for path, ds in R.analyses(f, "banded", "penalty"):
        ijk = voxel_indices(R.strings(ds["neuroid"]))
        if ijk is None:
            continue
        groups = R.strings(ds["group"])
        r = np.nanmean(R.floats(ds["r"].transpose("split", "neuroid")), axis=0)
        penalty = np.log10(R.floats(ds["penalty"].transpose("split", "group", "neuroid"))).mean(0)
        items.append(dict(name=data_name(f, path, "banded") + "-banded", path=path,
                          ijk=ijk, grid=grid_of(ds, ijk), r=[("banded\n" + "\n+ ".join(groups), r)],
                          penalty=[(g + "\nlog10 penalty", penalty[i])
                                   for i, g in enumerate(groups)]))
    return items


def find(f):
    return read_maps(f)


def _show(ax, image, cmap, vmin, vmax, world=None, labelled=(True, True)):
    """The image, rows upwards; with `world` (the world axes of its columns and rows) placed at
    their voxel centres in mm, each axis increasing and, where `labelled` says (x, y), named with
    tick labels; else in bare voxel indices."""
    ax.set_facecolor("0.88")  # NaN: voxels not scored
    extent = None
    if world:
        extent = []
        for (_, first, step), n in zip(world, image.shape[::-1]):
            extent += [first - step / 2, first + (n - 0.5) * step]
    im = ax.imshow(image, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
                   extent=extent)
    if not world:
        ax.set_xticks([])
        ax.set_yticks([])
        return im
    ax.set_xlim(sorted(extent[:2]))
    ax.set_ylim(sorted(extent[2:]))
    for axis, (name, _, _), shown in zip((ax.xaxis, ax.yaxis), world, labelled):
        axis.set_major_locator(MaxNLocator(3))
        axis.set_tick_params(labelsize=5, length=1.5, pad=1,
                             **{"labelbottom" if axis is ax.xaxis else "labelleft": shown})
        axis.labelpad = 1
        axis.set_label_text(f"{name} (mm)" if shown else "", fontsize=5)
    return im


def _label(ax, label, row, col, title, world):
    """The map's label on every panel (the figure's data names it) but shown on the first: the y
    label, or in world mm (where the y label names the axis) a text left of it; there the columns'
    titles too are shown on the first row only."""
    ax.set_title(title, fontsize=6, visible=row == 0 or not world)
    if not world:
        ax.set_ylabel(label, fontsize=6)
        ax.yaxis.label.set_visible(col == 0)
        return
    ax.annotate(label, xy=(0, 0.5), xycoords=ax.yaxis.label, xytext=(-3, 0),
                textcoords="offset points", ha="right", va="center", rotation=90, fontsize=6,
                visible=col == 0)


def _colourbar(fig, im, axes, label):
    bar = fig.colorbar(im, ax=axes, fraction=0.04, pad=0.02)
    bar.set_label(label)


def _scale(maps, kind):
    values = np.concatenate([v for _, v in maps])
    values = values[np.isfinite(values)]
    if kind == "r":
        top = max(float(np.max(np.abs(values))) if values.size else 1.0, 1e-6)
        return "RdBu_r", -top, top
    # Penalties span many decades where a group adds nothing: the colours cover the central 96%.
    return "viridis", float(np.percentile(values, 2)), float(np.percentile(values, 98))


def slices_figure(item, out_dir):
    maps = [(label, v, "r") for label, v in item["r"]] + \
        [(label, v, "penalty") for label, v in item["penalty"]]
    vols = [(label, *volume(item["ijk"], v, item["grid"]), kind) for label, v, kind in maps]
    ks = slice_indices(vols[0][1])
    world = world_axes(item["grid"]) if item["grid"] else None
    fig, axes = plt.subplots(len(vols), len(ks), squeeze=False,
                             figsize=(min(R.DOUBLE_COLUMN, 0.9 * len(ks) + 1.4), 1.0 * len(vols) + 0.3))
    scales = {kind: _scale([(l, v) for l, v, k in maps if k == kind], kind)
              for kind in {k for _, _, k in maps}}
    for row, (label, vol, low, kind) in enumerate(vols):
        cmap, vmin, vmax = scales[kind]
        for col, k in enumerate(ks):
            ax = axes[row, col]
            im = _show(ax, axial(vol, k), cmap, vmin, vmax, world and world[:2],
                       (row == len(vols) - 1, col == 0))
            title = f"k = {k + low[2]}"
            if world:
                name, first, step = world[2]
                title = f"{name} = {first + k * step:.1f} mm ({title})"
            _label(ax, label, row, col, title, world)
        _colourbar(fig, im, axes[row, :].tolist(), "r" if kind == "r" else "log10 penalty")
    return R.save(fig, out_dir, R.slug(KIND, "slices", item["name"]))


def glass_figure(item, out_dir):
    fig, axes = plt.subplots(len(item["r"]), 3, squeeze=False,
                             figsize=(min(R.DOUBLE_COLUMN, 5.2 if item["grid"] else 4.2),
                                      (1.3 if item["grid"] else 1.2) * len(item["r"]) + 0.3))
    cmap, vmin, vmax = _scale(item["r"], "r")
    world = world_axes(item["grid"]) if item["grid"] else None
    if world:
        fig.subplots_adjust(wspace=0.5)  # room for each column's y axis
    for row, (label, values) in enumerate(item["r"]):
        vol, _ = volume(item["ijk"], values, item["grid"])
        for col, (name, axis) in enumerate(PROJECTIONS):
            image = projection(vol, axis)
            shown = world and [w for a, w in enumerate(world) if a != axis]
            im = _show(axes[row, col], image, cmap, vmin, vmax, shown,
                       (row == len(item["r"]) - 1, True))
            _label(axes[row, col], label, row, col, f"{name} (max)", world)
        _colourbar(fig, im, axes[row, :].tolist(), "r")
    return R.save(fig, out_dir, R.slug(KIND, "glass", item["name"]))


def plot(item, out_dir, options=None):
    stems = [slices_figure(item, out_dir), glass_figure(item, out_dir)]
    labels = [label.replace("\n", " ") for label, _ in item["r"]]
    rows = [[label.replace("\n", " "), f"{np.nanmedian(v):.3f}", f"{np.nanmax(v):.3f}", int(np.isfinite(v).sum())]
            for label, v in item["r"]]
    where = (f"in the betas' grid ({'x'.join(map(str, item['grid'][0]))} voxels; "
             "world mm from its affine)" if item["grid"] else
             f"in the betas' voxel grid, cropped to the {len(item['ijk'])} voxels scored")
    return R.Figure(stems, f"Held-out Pearson r per voxel ({', '.join(labels)}; mean over splits) "
                    f"{where} ({item['path']}): axial slices and maximum projections "
                    "(glass-brain style); grey: voxels not scored"
                    + ("; banded ridge: each group's penalty (log10, geometric mean over splits)."
                       if item["penalty"] else "."),
                    [R.html_table(["map", "median r", "max r", "voxels"], rows,
                                  "Per-voxel r on the brain")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
