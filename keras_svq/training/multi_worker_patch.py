"""A workaround that lets Keras 3 `fit` run under `MultiWorkerMirroredStrategy`.

Upstream defect (keras-team/keras#20585, tensorflow/tensorflow#72388), seen
with Keras 3.15.1 on TensorFlow 2.21 and present since Keras 3.0 / TF 2.16:
with two or more workers, `model.fit` ends on every worker with

```
ValueError: Attempt to convert a value (PerReplica:{...}) with an
unsupported type (<class '...PerReplica'>) to a Tensor.
```

raised from `fit -> _maybe_symbolic_build -> strategy.reduce`. Two spots of
`keras/src/backend/tensorflow/trainer.py` are at fault:

1. `TensorFlowTrainer._maybe_symbolic_build` reduces the whole first batch,
   an `(x, y)` tuple of `PerReplica` values, with one
   `strategy.reduce("MEAN", batch, axis=None)`. `MirroredStrategy` accepts
   a nest there; the collective all-reduce of a multi-worker strategy does
   not. Only the batch's shapes and dtypes are used (to build the model
   symbolically), so the patch hands `_symbolic_build` the first local
   replica's part of each element instead: no collective, same shapes.
2. `reduce_per_replica` (the reduction of every step's logs) calls
   `strategy.reduce("MEAN", v, axis=0)` in multi-worker mode, which fails on
   the scalar loss and metric values (they have no axis 0). The patch
   reduces scalars with `axis=None`, the mean over replicas, which is what
   the single-worker branch (`tf.reduce_mean(local_results, axis=0)`)
   computes; other values keep Keras' reduction.

With both, two workers end with identical weights, equal to a 2-replica
`MirroredStrategy` run to float32 rounding (`tests/multi_worker_test.py`).

The patch is applied only where needed: `keras_svq.training.strategy` calls
`apply()` when it creates a `MultiWorkerMirroredStrategy`, and each
replacement acts only on a strategy in multi-worker mode, deferring to Keras
otherwise. `apply()` first probes Keras' source for the two defective calls
and patches only those it finds, so a Keras release that fixes them turns
the workaround off by itself (logged once). Users of plain `model.fit`
under the strategy call `apply()` once, before `fit`:

```python
import tensorflow as tf
from keras_svq.training import multi_worker_patch

strategy = tf.distribute.MultiWorkerMirroredStrategy()
multi_worker_patch.apply()
with strategy.scope():
    model = ...
model.fit(dataset)
```
"""

import functools
import inspect
import logging
import re

import keras

logger = logging.getLogger(__name__)

# The versions the defect was reproduced on; informative only: whether the
# patch applies is decided by `_defects()`, which reads the installed code.
AFFECTED_VERSIONS = "Keras 3.0-3.15.1 with TensorFlow 2.16-2.21"

_MARK = "_keras_svq_multi_worker_patch"
_state = {"applied": None}


def _trainer_module():
    from keras.src.backend.tensorflow import trainer

    return trainer


def _source(function):
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):  # no source shipped: assume the defect
        return None


def _defects():
    """The names of Keras' functions that still hold the defective calls."""
    module = _trainer_module()
    found = []
    build = module.TensorFlowTrainer._maybe_symbolic_build
    source = _source(build)
    if source is None or re.search(
        r"distribute_strategy\.reduce\(\s*\"MEAN\",\s*maybe_distributed_data_batch",
        source,
    ):
        found.append("_maybe_symbolic_build")
    source = _source(module.reduce_per_replica)
    if source is None or re.search(
        r"strategy\.reduce\(\"MEAN\", v, axis=0\)", source.replace("'", '"')
    ):
        found.append("reduce_per_replica")
    return found


def _in_multi_worker_mode(strategy):
    import tensorflow as tf

    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    )


def _patched_maybe_symbolic_build(original):
    @functools.wraps(original)
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        import tensorflow as tf

        strategy = self._distribute_strategy
        if iterator is None or strategy is None or not _in_multi_worker_mode(strategy):
            return original(self, iterator=iterator, data_batch=data_batch)
        batch = None
        for _, _, it in iterator:  # as Keras does: one batch of the first epoch
            batch = next(it)
            break
        if batch is None:
            return original(self, iterator=iterator, data_batch=data_batch)

        def local(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return strategy.experimental_local_results(value)[0]
            return value

        return original(self, data_batch=keras.tree.map_structure(local, batch))

    setattr(_maybe_symbolic_build, _MARK, True)
    return _maybe_symbolic_build


def _patched_reduce_per_replica(original):
    @functools.wraps(original)
    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not _in_multi_worker_mode(strategy):
            return original(values, strategy, reduction)

        def reduce(value):
            first = strategy.experimental_local_results(value)[0]
            if getattr(first, "shape", None) is not None and first.shape.rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return keras.tree.map_structure(reduce, values)

    setattr(reduce_per_replica, _MARK, True)
    return reduce_per_replica


def apply():
    """Patches Keras' TensorFlow trainer for `MultiWorkerMirroredStrategy`.

    Idempotent; a no-op on other Keras backends and on a Keras whose code no
    longer holds the defective calls (see the module docstring).

    Returns:
        list of str: the Keras functions patched (by this call or an
        earlier one); empty when Keras needs no patch.
    """
    if _state["applied"] is not None:
        return list(_state["applied"])
    if keras.backend.backend() != "tensorflow":
        _state["applied"] = []
        return []
    module = _trainer_module()
    defects = _defects()
    if "_maybe_symbolic_build" in defects and not hasattr(
        module.TensorFlowTrainer._maybe_symbolic_build, _MARK
    ):
        module.TensorFlowTrainer._maybe_symbolic_build = _patched_maybe_symbolic_build(
            module.TensorFlowTrainer._maybe_symbolic_build
        )
    if "reduce_per_replica" in defects and not hasattr(
        module.reduce_per_replica, _MARK
    ):
        # `_make_function` looks the name up in the module at call time.
        module.reduce_per_replica = _patched_reduce_per_replica(
            module.reduce_per_replica
        )
    if defects:
        logger.info(
            "patched Keras %s for MultiWorkerMirroredStrategy (%s; known defect "
            "of %s, keras-team/keras#20585)",
            keras.__version__,
            ", ".join(defects),
            AFFECTED_VERSIONS,
        )
    else:
        logger.info(
            "Keras %s needs no MultiWorkerMirroredStrategy patch (its trainer no "
            "longer holds the defective reductions)",
            keras.__version__,
        )
    _state["applied"] = defects
    return list(defects)


def is_applied():
    """True when `apply()` patched at least one Keras function."""
    return bool(_state["applied"])
