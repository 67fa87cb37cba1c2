# %% [markdown]
# # lrm-suite from Python
# The demo's analyses called from a notebook on arrays: a category localizer, RSA with a noise
# ceiling on the Kriegeskorte et al. (2008) RDMs, an encoding model scored against the ceiling of
# simulated recordings, and signal-detection scores. Each function returns xarray objects named as
# the suite's HDF5 files. Run it as a script (`PYTHONPATH=build/python /usr/bin/python3
# examples/notebook.py`) or cell by cell in an editor that knows `# %%`. Figures go to
# $LRM_NOTEBOOK_OUT (default: runs/notebook).

# %%
import os

import matplotlib

if not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import scipy.io as sio
import xarray as xr
from scipy.spatial.distance import squareform

import lrmsuite

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.environ.get("LRM_NOTEBOOK_OUT", os.path.join(ROOT, "runs", "notebook"))
os.makedirs(OUT, exist_ok=True)
lrmsuite.set_threads(2)

# %% [markdown]
# ## Category-selective units
# Activations of a convolutional layer (34 images of 4 categories, 20 × 10 × 10 units), opened with
# xarray as `lrm extract` writes them; the categories come from the file's coordinate.

# %%
layer = xr.open_dataset(os.path.join(ROOT, "tests/fixtures/localizer/activations.h5"),
                        group="/activations/conv", engine="h5netcdf").load()
acts = layer["pass1"].assign_coords(channel=layer["channel"], y=layer["y"], x=layer["x"])
localizer = lrmsuite.localize(acts, target="all", test="welch", fdr="by", q=0.05)
for target, ds in localizer.items():
    print(f"{target:8s} {ds.attrs['n_selective']:4d} of {ds.attrs['n_units']} units selective")

# %% [markdown]
# ## RSA: human IT against monkey IT
# The four subjects' human IT RDMs (two sessions averaged) and the monkey IT RDM, compared with
# Spearman's ρ, against the human noise ceiling.

# %%
k92 = os.path.join(ROOT, "neural_data", "kriegeskorte2008")
brain = sio.loadmat(os.path.join(k92, "92_brainRDMs.mat"))["RDMs"]
human = np.stack([(brain[0, s, 0]["RDM"] + brain[0, s, 1]["RDM"]) / 2 for s in range(4)])
fig1 = sio.loadmat(os.path.join(k92, "Kriegeskorte_Neuron2008_supplementalData.mat"))
monkey = squareform(fig1["RDMs_mIT_hIT_fig1"][0, 0]["RDM"][0].astype(np.float64))
r = lrmsuite.compare_rdms(monkey, human, comparison="spearman")
ceiling = lrmsuite.noise_ceiling(human, comparison="spearman")
print("monkey IT vs each subject:", np.round(r.values, 3))
print("noise ceiling: lower %.3f, upper %.3f" % (ceiling["noise_ceiling_lower"],
                                                  ceiling["noise_ceiling_upper"]))

# %% [markdown]
# ## Encoding model on simulated recordings
# Poisson spike counts (6 repetitions) around rates that are a linear map of model features; the
# split-half ceiling is estimated from the repetitions and the PLS encoding model is scored
# against it.

# %%
rng = np.random.default_rng(0)
n_stimuli, n_features, n_neuroids, reps = 240, 300, 30, 6
features = np.maximum(rng.normal(size=(n_stimuli, n_features)), 0).astype(np.float32)
rates = np.exp(0.3 * (features - features.mean(0)) @ rng.normal(size=(n_features, n_neuroids))
               / np.sqrt(n_features) + 1.5)
counts = rng.poisson(np.repeat(rates, reps, axis=0)).astype(np.float64)
stimulus = np.repeat([f"s{i}" for i in range(n_stimuli)], reps)
recordings = xr.DataArray(counts, dims=("presentation", "neuroid"),
                          coords={"stimulus_id": ("presentation", stimulus)})
c = lrmsuite.ceiling(recordings, halvings=10)
mean_response = counts.reshape(n_stimuli, reps, n_neuroids).mean(1)
encoding = lrmsuite.encode(features, mean_response, regression="pls", pls_components=10,
                           splits=10, ceiling=c)
print("ceiling %.3f, raw r %.3f ± %.3f, r/c %.3f" % (c["ceiling"], encoding["score_raw"],
                                                     encoding["score_error"],
                                                     encoding["score_ceiled"]))

# %% [markdown]
# ## Signal detection of steering
# Hits and false alarms out of 500 composites per gain α, as `lrm steer` counts them.

# %%
alphas = xr.DataArray([1, 2, 3, 4, 5], dims="alpha")
hits = xr.DataArray([210, 232, 241, 230, 199], dims="alpha", coords={"alpha": alphas})
false_alarms = xr.DataArray([12, 14, 16, 15, 16], dims="alpha", coords={"alpha": alphas})
sdt = lrmsuite.signal_detection(hits, false_alarms, 500, 500)
print(sdt[["hit_rate", "false_alarm_rate", "a_prime", "d_prime"]].to_dataframe().round(3))

# %% [markdown]
# ## Figure 1: where the selective units are
# Fraction of each channel's units selective for each category, and the t maps of one channel.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for target, ds in localizer.items():
    per_channel = ds["selective"].groupby(ds["channel"]).mean()
    axes[0].plot(per_channel["channel"], per_channel, marker="o", label=target)
axes[0].set(xlabel="channel", ylabel="fraction selective", title="Selective units per channel")
axes[0].legend(fontsize=8)
faces = localizer["faces"]
best = int(faces["selective"].groupby(faces["channel"]).sum().argmax())
t_map = faces["mean_t"].where(faces["channel"] == best, drop=True).values.reshape(10, 10)
limit = np.abs(t_map[np.isfinite(t_map)]).max()  # ±inf: units constant within categories
im = axes[1].imshow(t_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
axes[1].set_title(f"mean t, faces vs others, channel {best}")
fig.colorbar(im, ax=axes[1])
fig.tight_layout()
fig.savefig(os.path.join(OUT, "localizer.png"), dpi=100)

# %% [markdown]
# ## Figure 2: RSA and encoding against their ceilings

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].bar(range(4), r.values, color="tab:blue")
axes[0].axhspan(float(ceiling["noise_ceiling_lower"]), float(ceiling["noise_ceiling_upper"]),
                color="grey", alpha=0.3, label="human noise ceiling")
axes[0].set(xticks=range(4), xticklabels=[f"subject {s + 1}" for s in range(4)],
            ylabel="Spearman ρ with monkey IT", title="Human IT vs monkey IT")
axes[0].legend(fontsize=8)
axes[1].scatter(c["ceiling_per_neuroid"], encoding["r"].mean("split"), s=12)
lim = [0, 1]
axes[1].plot(lim, lim, color="grey", lw=0.8)
axes[1].set(xlabel="split-half ceiling per neuroid", ylabel="held-out r (mean over splits)",
            title="PLS encoding vs ceiling")
fig.tight_layout()
fig.savefig(os.path.join(OUT, "rsa_encoding.png"), dpi=100)
print("figures in", OUT)
