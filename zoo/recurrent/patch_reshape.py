"""Space-to-channel patching of frame sequences, in the reference's channel order.

PredRNN-family models run their cells on frames folded into `p x p` patches:
`(B, T, H, W, C) -> (B, T, H/p, W/p, p*p*C)`. The channel of pixel `(dy, dx)`
of a patch and frame channel `c` is `(dy * p + dx) * C + c`, as in the official
`reshape_patch`, so that checkpoints trained on patched frames load unchanged.
"""

from keras import ops


def _check(size, patch_size, name):
    if size is not None and size % patch_size:
        raise ValueError(
            f"`{name}` must be a multiple of `patch_size`. Received: {name}={size}, "
            f"patch_size={patch_size}"
        )


def reshape_patch(frames, patch_size):
    """`(B, T, H, W, C) -> (B, T, H/p, W/p, p*p*C)`, channel `(dy*p + dx)*C + c`."""
    if patch_size == 1:
        return frames
    _, steps, height, width, channels = frames.shape
    _check(height, patch_size, "height")
    _check(width, patch_size, "width")
    p = patch_size
    x = ops.reshape(frames, (-1, steps, height // p, p, width // p, p, channels))
    x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
    return ops.reshape(x, (-1, steps, height // p, width // p, p * p * channels))


def reshape_patch_back(patches, patch_size):
    """Inverse of `reshape_patch`: `(B, T, h, w, p*p*C) -> (B, T, h*p, w*p, C)`."""
    if patch_size == 1:
        return patches
    _, steps, height, width, channels = patches.shape
    p = patch_size
    if channels % (p * p):
        raise ValueError(
            "The channels of a patched tensor must be a multiple of patch_size**2. "
            f"Received: channels={channels}, patch_size={patch_size}"
        )
    c = channels // (p * p)
    x = ops.reshape(patches, (-1, steps, height, width, p, p, c))
    x = ops.transpose(x, (0, 1, 2, 4, 3, 5, 6))
    return ops.reshape(x, (-1, steps, height * p, width * p, c))
