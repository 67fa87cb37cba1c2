"""Simulated NSD-style inputs of the compare encode end-to-end tests: stimulus ids, trials of
repeated noisy betas, NIfTI volumes in lrm's voxel order (x fastest), and trial tables."""
import nibabel as nib
import numpy as np


def nsd_ids(n_stim):
    return [f"nsd{i:05d}" for i in range(n_stim)]


def repeated_trials(rng, signal, reps):
    """Every stimulus (a row of `signal`) shown `reps` times, each round in a new random order, with
    noise of sd 0.5: each trial's stimulus and the trials x voxels betas."""
    n_stim, n_vox = signal.shape
    order = np.concatenate([rng.permutation(n_stim) for _ in range(reps)])
    return order, signal[order] + 0.5 * rng.standard_normal((reps * n_stim, n_vox))


def voxel_order(volume):
    """A 3-D volume's voxels in lrm's order (x fastest): voxel v of the grid is column v of the betas."""
    return volume.transpose(2, 1, 0).ravel()


def write_nifti(path, data, affine):
    nib.save(nib.Nifti1Image(data, affine), path)


def write_betas(path, betas, shape, affine):
    """Trials x voxels betas as a 4-D float32 NIfTI of the grid `shape`."""
    vol = betas.T.reshape(shape[::-1] + (len(betas),)).transpose(2, 1, 0, 3).copy()
    write_nifti(path, vol.astype(np.float32), affine)


def write_trials(path, ids, order, sessions=None):
    """The trial table: each trial's stimulus id, and its session where given."""
    with open(path, "w") as f:
        if sessions is None:
            f.write("stimulus_id\n" + "".join(f"{ids[s]}\n" for s in order))
        else:
            f.write("stimulus_id,session\n" + "".join(f"{ids[s]},{ss}\n" for s, ss in zip(order, sessions)))

