"""The datasets of a run's files (results.h5 of `lrm run`, or any file a command wrote)."""
from collections.abc import Mapping


class Results(Mapping):
    """Every group of a suite file that holds arrays, by path ("/localizer/conv/pass1/face"), each
    opened on access as an xarray Dataset with its dimensions and coordinates; `attrs` holds the
    root's provenance (lrm_version, git_commit, command_line, ...)."""

    def __init__(self, path):
        import h5py

        self.path = str(path)
        groups = []
        with h5py.File(self.path, "r") as f:
            if not f.attrs.get("complete", 0):
                raise ValueError(f"{self.path}: not a complete lrm-suite file (no complete = 1; an "
                                 "unfinished run leaves <out>.partial)")
            self.attrs = {k: _text(v) for k, v in f.attrs.items()}

            def visit(name, obj):
                if isinstance(obj, h5py.Group) and any(
                        isinstance(v, h5py.Dataset) for v in obj.values()):
                    groups.append("/" + name)

            if any(isinstance(v, h5py.Dataset) for v in f.values()):
                groups.append("/")
            f.visititems(visit)
        self._groups = sorted(groups)

    def __getitem__(self, group):
        import xarray

        key = "/" + group.strip("/") if group != "/" else "/"
        if key not in self._groups:
            raise KeyError(group)
        return xarray.open_dataset(self.path, group=key, engine="h5netcdf")

    def __iter__(self):
        return iter(self._groups)

    def __len__(self):
        return len(self._groups)

    def __repr__(self):
        return f"Results({self.path!r}, {len(self)} groups)"


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def open_results(path):
    """The datasets of a suite file: a read-only mapping from group path to xarray Dataset."""
    return Results(path)
