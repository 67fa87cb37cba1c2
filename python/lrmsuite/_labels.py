"""Arrays in and labelled arrays out: numpy or xarray inputs as the core reads them (no copy where
the layout allows), and xarray is imported only when a result is labelled."""
import numpy as np


def xr():
    import xarray

    return xarray


def is_xarray(a):
    return type(a).__module__.startswith("xarray")


def values(a):
    """The data of a numpy array, an xarray DataArray or anything array-like, without a copy where
    it already is a numpy array."""
    return a.values if is_xarray(a) else np.asarray(a)


def coord(a, name, dim=None):
    """A 1-D coordinate of a DataArray (on `dim` when given), or None."""
    if not is_xarray(a) or name not in a.coords:
        return None
    c = a.coords[name]
    if c.ndim != 1 or (dim is not None and c.dims[0] != dim):
        return None
    return c.values


def threads(value):
    """threads= of every function: None is the module default (set_threads), else at least 1."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"threads: must be a whole number of at least 1, got {value!r}")
    return int(value)


def in_range(name, value, low, high):
    if not (low <= value <= high):
        raise ValueError(f"{name}: {value} is not in [{low}, {high}]")


def rows(a, what):
    """A (stimulus, ...) array as (stimulus, unit) in C order: a view when it is C-contiguous, and
    the unit shape it had (for channel, y, x coordinates)."""
    data = values(a)
    if data.ndim < 2:
        raise ValueError(f"{what}: expected (stimulus, unit) or (stimulus, channel, y, x), got "
                         f"{data.ndim} dimension(s)")
    return data.reshape(data.shape[0], -1), data.shape[1:]


def unit_coords(a, unit_shape, n_units):
    """unit, channel, y and x as the activation files store them: from a DataArray's unit
    coordinates, else from the unit shape (C, H, W) of a 4-D array."""
    out = {}
    for name in ("unit", "channel", "y", "x"):
        c = coord(a, name, "unit")
        if c is not None:
            out[name] = ("unit", c)
    if "unit" not in out:
        out["unit"] = ("unit", np.arange(n_units, dtype=np.int64))
    if "channel" not in out and len(unit_shape) == 3:
        channel, y, x = np.unravel_index(np.arange(n_units), unit_shape)
        out.update(channel=("unit", channel), y=("unit", y), x=("unit", x))
    return out
