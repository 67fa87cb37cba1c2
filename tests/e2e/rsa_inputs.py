"""Inputs of the compare rsa end-to-end tests: the Kriegeskorte et al. (2008) brain RDMs in
neural_data/ and simulated activations for their 92 stimuli."""
from lrm_e2e import write_activations

BRAIN = "neural_data/kriegeskorte2008/92_brainRDMs.mat"  # 4 subjects
TWO_SUBJECTS = "neural_data/kriegeskorte2008/Kriegeskorte_Neuron2008_supplementalData.mat:RDMs_mIT_hIT_fig1"
IDS = [f"k{i:03d}" for i in range(92)]


def write_latent_activations(path, rng, units, n_latent):
    """Passes 0 and 1 of each layer (`units` maps a layer to its unit count) for the 92 stimuli: each
    layer draws its own latent 92 x n_latent factors, each pass a random projection of them plus
    unit-variance noise."""
    n_stim, models = len(IDS), {}
    for layer, n in units.items():
        latent = rng.standard_normal((n_stim, n_latent))
        for p in (0, 1):
            models[f"{layer}/pass{p}"] = latent @ rng.standard_normal((n_latent, n)) + rng.standard_normal((n_stim, n))
    write_activations(path, models, IDS)
