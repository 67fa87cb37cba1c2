"""lrm localize end to end: the parity fixture through the CLI, the result file in h5py and
xarray (masks map back to channel, y, x), NaN/inf reporting, and the bad-input errors."""
import os
import shutil

import h5py
import numpy as np
import xarray as xr

from lrm_e2e import Checks

c = Checks("localize")
fixture = os.path.join("tests", "fixtures", "localizer")
acts = os.path.join(fixture, "activations.h5")
out = c.path("localizer.h5")

p = c.run("localize", "--help")
c.check("localize --help explains itself", "--target" in p.stdout and "--fdr" in p.stdout)

p = c.run("localize", "--activations", acts, "--target", "all", "--out", out, quiet=False)
c.check("NaN/inf activations are reported on stderr", "6 NaN/inf activations in 5 units" in p.stderr,
        repr(p.stderr))
c.check("counts are printed per layer, pass and target", "faces" in p.stdout and "conv" in p.stdout)
with h5py.File(out, "r") as f, h5py.File(os.path.join(fixture, "expected.h5"), "r") as e:
    c.check("result file is complete", f.attrs.get("complete") == 1)
    g = f["localizer/conv/pass1/faces"]
    c.check("faces mask equals scipy + statsmodels (Student, BY)",
            np.array_equal(g["selective"][...], e["student/selective_by"][...]))
    order = [list(g["comparison"].asstr()[...]).index(o) for o in e["comparison"].asstr()[...]]
    expected = e["student/p_adjusted_by"][...]
    mine = g["p_adjusted"][...][order]
    finite = np.isfinite(expected)
    c.check("adjusted p within 1e-12 of statsmodels",
            np.array_equal(finite, np.isfinite(mine)) and
            np.allclose(mine[finite], expected[finite], rtol=1e-12, atol=0))
    c.check("every category is a target", sorted(f["localizer/conv/pass1"].keys()) ==
            ["bodies", "category", "channel", "faces", "n_images", "nonfinite", "objects", "places",
             "unit", "x", "y"])
    c.check("unit coordinates are stored once per pass, linked from each target",
            all(f[f"localizer/conv/pass1/{t}/{name}"].id == f[f"localizer/conv/pass1/{name}"].id
                for t in ("faces", "places") for name in ("unit", "channel", "y", "x")))
    c.check("NaN/inf counts are stored", f["localizer/conv/pass1"].attrs["n_nonfinite"] == 6)
    c.check("summary table has a row per target", len(f["localizer/summary/target"]) == 4)

ds = xr.open_dataset(out, group="localizer/conv/pass1/faces", engine="h5netcdf")
c.check("xarray sees labelled (comparison, unit) arrays", ds["t"].dims == ("comparison", "unit"))
c.check("mask maps back to channel, y, x",
        {"channel", "y", "x"} <= set(ds["selective"].coords) and int(ds["x"][11]) == 1)
ds.close()

# Provenance: the activation file's stimulus checksum (the root attribute `lrm extract` writes)
# is carried into the localizer file.
with_checksum = c.path("with_checksum.h5")
shutil.copy(acts, with_checksum)
with h5py.File(with_checksum, "a") as f:
    f.attrs["stimuli_checksum"] = "0123abcd"
    f.attrs["weights_sha256"] = "feedbeef"
out_prov = c.path("localizer_prov.h5")
c.run("localize", "--activations", with_checksum, "--target", "faces", "--out", out_prov)
with h5py.File(out_prov, "r") as f:
    c.check("the activation file's stimulus checksum and weights digest are recorded",
            f.attrs.get("activations_stimuli_checksum") == "0123abcd"
            and f.attrs.get("activations_weights_sha256") == "feedbeef", dict(f.attrs))

# Options: one comparison, Welch, BH, ratio criterion, layer and pass selection.
out2 = c.path("localizer_vs.h5")
c.run("localize", "--activations", acts, "--target", "faces", "--vs", "bodies,objects", "--test", "welch",
      "--fdr", "bh", "--ratio", "2", "--layers", "conv", "--passes", "1", "--out", out2)
with h5py.File(out2, "r") as f:
    g = f["localizer/conv/pass1/faces"]
    c.check("--vs picks the comparisons", list(g["comparison"].asstr()[...]) == ["bodies", "objects"])
    c.check("--ratio writes ratios and never widens the mask",
            "ratio" in g and g.attrs["n_selective"] <= g.attrs["n_selective_ttest"])
    c.check("options are recorded", f["localizer"].attrs["fdr"] == "bh" and f["localizer"].attrs["test"] == "welch")

# Bad input.
c.bad_input("absent target", ["localize", "--activations", acts, "--target", "cars", "--out", c.path("x.h5")],
            "cars")
c.bad_input("unknown layer", ["localize", "--activations", acts, "--target", "faces", "--layers", "fc9",
                              "--out", c.path("x.h5")], "fc9")
c.bad_input("absent pass", ["localize", "--activations", acts, "--target", "faces", "--passes", "3",
                            "--out", c.path("x.h5")], "pass 3")
no_category = c.path("no_category.h5")
shutil.copy(acts, no_category)
with h5py.File(no_category, "a") as f:
    del f["activations/conv/category"]
c.bad_input("activations without categories", ["localize", "--activations", no_category, "--target", "faces",
                                               "--out", c.path("x.h5")], "category")
one_image = c.path("one_image.h5")
shutil.copy(acts, one_image)
with h5py.File(one_image, "a") as f:
    cats = f["activations/conv/category"].asstr()[...]
    cats[np.flatnonzero(cats == "objects")[1:]] = "bodies"
    del f["activations/conv/category"]
    f["activations/conv"].create_dataset("category", data=cats.astype(object), dtype=h5py.string_dtype())
c.bad_input("category with one image", ["localize", "--activations", one_image, "--target", "faces",
                                        "--out", c.path("x.h5")], "'objects' has 1 image")
c.check("no result file is left after bad input", not os.path.exists(c.path("x.h5")))
c.finish()
