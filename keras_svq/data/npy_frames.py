"""A `.npy` file read row by row with plain file reads (no memory map).

A memory map keeps every page it touched resident and counted in the
process's RSS, so one pass over a 4 GiB memory-mapped array (fitting the
normaliser, an epoch of random windows) ends with a 4 GiB process.
`NpyFrames` reads the rows asked for with `os.pread` into fresh buffers
instead: the file's pages live in the kernel's page cache, which the kernel
reclaims, and the process holds only the rows it is working on.
"""

import os
import pathlib

import numpy as np


class NpyFrames:
    """A lazily-read `.npy` array: `shape`, `dtype`, `ndim`, `frames[rows]`.

    Args:
        path: str or path. A `.npy` file (C order, no object dtype).

    Indexing takes an int, a slice with step 1, or a 1-D integer array of
    rows along the first axis (any order, repeats allowed); contiguous rows
    are read in one call.

    Example:

    ```python
    frames = NpyFrames("field.npy")     # nothing read yet
    window = frames[np.arange(10, 22)]  # 12 rows read
    ```
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            reader = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran_order, dtype = reader(f)
            self._offset = f.tell()
        if fortran_order:
            raise ValueError(
                f"{self.path} is stored in Fortran order; save it in C order "
                "(np.save(path, np.ascontiguousarray(array)))."
            )
        if dtype.hasobject:
            raise ValueError(f"{self.path} holds Python objects, not numbers.")
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self._row_items = int(np.prod(self.shape[1:], dtype="int64"))
        self._row_bytes = self._row_items * self.dtype.itemsize

    def __len__(self):
        return self.shape[0]

    def _read_run(self, fd, lo, hi):
        count = hi - lo
        buffer = bytearray(count * self._row_bytes)
        view = memoryview(buffer)
        done, position = 0, self._offset + lo * self._row_bytes
        while done < len(buffer):
            n = os.preadv(fd, [view[done:]], position + done)
            if n == 0:
                raise ValueError(
                    f"{self.path} is truncated: rows {lo}..{hi - 1} lie past its end."
                )
            done += n
        return np.frombuffer(buffer, self.dtype).reshape((count,) + self.shape[1:])

    def _read_rows(self, rows):
        rows = np.asarray(rows, dtype="int64").reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(
                f"rows {rows.min()}..{rows.max()} out of range for {self.shape[0]} rows"
            )
        unique, inverse = np.unique(rows, return_inverse=True)
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        fd = os.open(self.path, os.O_RDONLY)
        try:
            parts = [
                self._read_run(fd, int(run[0]), int(run[-1]) + 1)
                for run in np.split(unique, breaks)
                if len(run)
            ]
        finally:
            os.close(fd)
        if not parts:
            return np.zeros((0,) + self.shape[1:], self.dtype)
        data = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return data[inverse.reshape(-1)]

    def __getitem__(self, index):
        if isinstance(index, tuple):
            head, rest = index[0], index[1:]
            return self[head][(slice(None),) + rest if _keeps_axis(head) else rest]
        if isinstance(index, (int, np.integer)):
            row = int(index) + (self.shape[0] if index < 0 else 0)
            return self._read_rows([row])[0]
        if isinstance(index, slice):
            lo, hi, step = index.indices(self.shape[0])
            return self._read_rows(np.arange(lo, hi, step))
        return self._read_rows(index)

    def __array__(self, dtype=None, copy=None):
        data = self._read_rows(np.arange(self.shape[0]))
        return data if dtype is None else data.astype(dtype)

    def __repr__(self):
        return f"NpyFrames({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


def _keeps_axis(index):
    return not isinstance(index, (int, np.integer))
