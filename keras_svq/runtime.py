"""Process-wide runtime settings for training and inference on the CPU.

`configure()` is called by the entry points (`keras-svq train|evaluate|
predict|export`, the benchmarks) before TensorFlow is imported. It sets:

- glibc malloc's arena count and mmap threshold (`mallopt`), unless the user
  set `MALLOC_ARENA_MAX` / `MALLOC_MMAP_THRESHOLD_` themselves. TensorFlow
  frees a training step's tensors from whichever thread ran the op; with
  one malloc arena per thread (glibc's default, up to 8 per core) and the
  dynamic mmap threshold (which rises to 32 MiB after the first large
  free), freed activation buffers stay in the arenas as fragmented heap, so
  the process's resident set grows well above the live tensors (see
  `bench/memory_profile.py` and `bench/RESULTS.md`);
- TensorFlow's oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS=1`), unless the user
  set the variable. TensorFlow turns them on by itself only on CPUs with
  AVX-512 VNNI, BF16 or AMX; on an AVX2 CPU (AMD EPYC here) it falls back to
  Eigen's kernels, and SimVP-gSTA's forward pass then takes 1.96x as long
  (batch 16: 3.72 s against 1.90 s with oneDNN, `bench/RESULTS.md`);
- TensorFlow's intra- and inter-op thread pools, when `threads` is given;
- on the TensorFlow backend, TensorFlow is imported without JAX: when JAX is
  installed, TensorFlow's TFLite converter imports it (for its JAX input
  path, which training never uses), which adds about 100 MiB to every
  process. JAX stays importable afterwards.

`compiled_predictor()` is the inference path: a `tf.function` with a fixed
input signature, optionally XLA-compiled, that calls the model in inference
mode without `model.predict`'s per-call dataset and callback machinery.

Nothing here changes results (only where memory comes from and how calls
are dispatched), except `compiled_predictor(..., compute_dtype="bfloat16")`,
which the caller asks for: a bfloat16 copy of the model, about 1.5x faster on
a CPU with AVX-512 BF16 (`keras_svq.export.precision`).
"""

import ctypes
import ctypes.util
import json
import os
import sys

# mallopt(3) parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

# Defaults chosen with bench/memory_profile.py (see bench/RESULTS.md).
ARENA_MAX = 2
MMAP_THRESHOLD = 1 << 20  # buffers of 1 MiB or more come from mmap and go back on free

_configured = {}


def _mallopt(param, value):
    """Calls glibc's mallopt; False where there is no glibc (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(param, value))


def configure_malloc(arena_max=ARENA_MAX, mmap_threshold=MMAP_THRESHOLD):
    """Bounds glibc malloc's arenas and fixes its mmap threshold.

    Args:
        arena_max: int or None. Maximum number of malloc arenas; None leaves
            glibc's default. Ignored when `MALLOC_ARENA_MAX` is set.
        mmap_threshold: int or None. Allocations of at least this many bytes
            are served by mmap and returned to the system when freed; None
            leaves glibc's dynamic threshold. Ignored when
            `MALLOC_MMAP_THRESHOLD_` is set.

    Returns:
        dict: the settings applied (empty where glibc is not available).
    """
    applied = {}
    if arena_max is not None and "MALLOC_ARENA_MAX" not in os.environ:
        if _mallopt(_M_ARENA_MAX, int(arena_max)):
            applied["arena_max"] = int(arena_max)
    if mmap_threshold is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        if _mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)):
            applied["mmap_threshold"] = int(mmap_threshold)
    return applied


def _keras_backend():
    """The Keras backend a later `import keras` will pick, without importing it."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    base = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(base, "keras.json")) as handle:
            return json.load(handle).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def import_tensorflow_without_jax():
    """Imports TensorFlow with `import jax` failing meanwhile; True if it did.

    Does nothing (False) when TensorFlow or JAX is already imported or the
    Keras backend is not TensorFlow.
    """
    if "tensorflow" in sys.modules or "jax" in sys.modules:
        return False
    if _keras_backend() != "tensorflow":
        return False
    sys.modules["jax"] = None  # makes `import jax` raise ImportError
    try:
        import tensorflow  # noqa: F401
    finally:
        if "jax" in sys.modules and sys.modules["jax"] is None:
            del sys.modules["jax"]
    return True


def _set_before_tensorflow(name, value):
    """Sets the environment variable `name` unless the user set it or
    TensorFlow, which reads it once at import, is loaded. Returns the value
    in force (None when TensorFlow was imported without it)."""
    if name not in os.environ and "tensorflow" not in sys.modules:
        os.environ[name] = value
    return os.environ.get(name)


def configure_onednn(enable=True):
    """Sets `TF_ENABLE_ONEDNN_OPTS` unless it is set or TensorFlow is loaded.

    Returns the value in force (None when TensorFlow was already imported
    without the variable: its own choice then stands).
    """
    return _set_before_tensorflow("TF_ENABLE_ONEDNN_OPTS", "1" if enable else "0")


def configure_low_memory():
    """Has oneDNN allocate through malloc (`TF_ONEDNN_USE_SYSTEM_ALLOCATOR`).

    oneDNN's own allocator is a best-fit pool that keeps freed buffers for
    reuse: fast, but its fragmentation holds 0.3-0.5 GiB above the live
    tensors of a SimVP-gSTA step (batch 16, t2m). Through malloc, with
    `configure_malloc()`'s 1 MiB mmap threshold, freed buffers go back to the
    system at once: peak RSS 4.99 -> 4.43 GiB, but every large buffer is
    page-faulted anew and the step takes about 1.5x as long
    (`bench/RESULTS.md`). Does nothing if the user set the variable.
    """
    return _set_before_tensorflow("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "true")


def configure(threads=None, *, malloc=True, onednn=True, low_memory=False):
    """Applies the runtime settings; call before importing TensorFlow.

    Safe to call more than once (later calls only change the thread pools if
    TensorFlow has not started them yet).

    Args:
        threads: int or None. Intra- and inter-op threads of TensorFlow; None
            keeps TensorFlow's default (one per core).
        malloc: bool. Apply `configure_malloc()`'s defaults. Defaults to True.
        onednn: bool. Turn TensorFlow's oneDNN kernels on (`configure_onednn`)
            when the user has not chosen. Defaults to True.
        low_memory: bool. Trade speed for memory (`configure_low_memory`).
            Defaults to False.

    Returns:
        dict: what was applied.
    """
    if malloc and "malloc" not in _configured:
        _configured["malloc"] = configure_malloc()
    if onednn and "onednn" not in _configured:
        _configured["onednn"] = configure_onednn()
    if low_memory and "low_memory" not in _configured:
        _configured["low_memory"] = configure_low_memory()
    if import_tensorflow_without_jax():
        _configured["tensorflow_without_jax"] = True
    if threads is not None:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(int(threads))
            _configured["threads"] = int(threads)
        except RuntimeError:  # the pools already exist: keep them
            pass
    return dict(_configured)


def compiled_predictor(model, jit_compile=False, batch_size=None, compute_dtype=None):
    """A `tf.function` computing `model(x, training=False)` for a fixed input shape.

    Traced once for `(batch_size, *model.inputs[0].shape[1:])` (batch size
    free by default), so repeated calls neither retrace nor go through
    `model.predict`'s dataset and callbacks.

    Args:
        model: a Keras model with one input, on the TensorFlow backend.
        jit_compile: bool. Compile with XLA. Defaults to False.
        batch_size: int or None. A fixed batch size (lets XLA specialise) or
            None for any. Defaults to None.
        compute_dtype: None (the model as it is), `"float32"` or
            `"bfloat16"`: run a copy of the model computing in that dtype
            (`keras_svq.export.precision.with_compute_dtype`); forecasts come
            back in float32. Defaults to None.

    Returns:
        A callable `x -> forecast` taking and returning `tf.Tensor`s.
    """
    import tensorflow as tf

    shape = (batch_size, *model.inputs[0].shape[1:])
    dtype = model.inputs[0].dtype or "float32"
    output_dtype = None
    if compute_dtype is not None:
        from keras_svq.export.precision import with_compute_dtype

        model = with_compute_dtype(model, compute_dtype)
        output_dtype = tf.float32

    @tf.function(
        input_signature=[tf.TensorSpec(shape, dtype)],
        jit_compile=jit_compile,
        reduce_retracing=True,
    )
    def predict(x):
        y = model(x, training=False)
        return y if output_dtype is None else tf.cast(y, output_dtype)

    return predict
