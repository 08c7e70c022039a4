"""`Preprocessing`: crop, NaN-aware coarsen, pad, undo, TF parity, config, errors."""

import json
import logging

import numpy as np
import pytest
import tensorflow as tf

from keras_svq.data.preprocessing import Preprocessing

# A descending-latitude grid, as in most reanalysis files: H=6, W=8.
LAT = np.array([60.0, 55.0, 50.0, 45.0, 40.0, 35.0])
LON = np.array([-10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0])


def _frames(shape=(2, 6, 8, 2), nan_fraction=0.0, seed=0):
    rng = np.random.default_rng(seed)
    frames = rng.standard_normal(shape).astype("float32")
    frames[rng.random(shape) < nan_fraction] = np.nan
    return frames


def _block_mean_loop(frames, fh, fw):
    """The reference: mean of the finite values of each block, NaN if none."""
    *lead, height, width, channels = frames.shape
    out = np.full((*lead, height // fh, width // fw, channels), np.nan, "float64")
    for index in np.ndindex(*lead):
        for i in range(height // fh):
            for j in range(width // fw):
                for c in range(channels):
                    block = frames[index][
                        i * fh : (i + 1) * fh, j * fw : (j + 1) * fw, c
                    ]
                    finite = block[np.isfinite(block)]
                    if finite.size:
                        out[index][i, j, c] = finite.mean()
    return out


# ---------------------------------------------------------------- crop
def test_crop_by_rows_and_cols():
    x = _frames()
    prep = Preprocessing(crop={"rows": [1, 4], "cols": [2, 7]}).resolve(x.shape[1:])
    assert prep.input_shape == (6, 8)
    assert prep.output_shape == (3, 5)
    np.testing.assert_array_equal(prep.apply(x), x[:, 1:4, 2:7])
    rows_only = Preprocessing(crop={"rows": [2, 6]}).resolve((6, 8))
    assert rows_only.crop == {"rows": [2, 6], "cols": [0, 8]}
    np.testing.assert_array_equal(rows_only.apply(x), x[:, 2:6])


def test_crop_by_lat_lon_on_descending_grid():
    x = _frames()
    prep = Preprocessing(crop={"lat": [40, 55], "lon": [20, 0]})
    resolved = prep.resolve((6, 8, 2), coords={"lat": LAT, "lon": LON})
    # 55, 50, 45, 40 are rows 1..4; 0, 5, 10, 15, 20 are columns 2..6 (inclusive).
    assert resolved.crop == {"rows": [1, 5], "cols": [2, 7]}
    np.testing.assert_array_equal(resolved.apply(x), x[:, 1:5, 2:7])
    coords = resolved.apply_coords({"lat": LAT, "lon": LON, "time": "kept"})
    np.testing.assert_array_equal(coords["lat"], [55, 50, 45, 40])
    np.testing.assert_array_equal(coords["lon"], [0, 5, 10, 15, 20])
    assert coords["time"] == "kept"
    # "y"/"x" are synonyms, on either side; index and value keys mix across axes.
    mixed = Preprocessing(crop={"y": [40, 55], "cols": [0, 3]}).resolve(
        (6, 8), coords={"lat": LAT}
    )
    assert mixed.crop == {"rows": [1, 5], "cols": [0, 3]}


def test_legacy_list_crop_keeps_top_left():
    x = _frames()
    prep = Preprocessing(crop=[3, 4]).resolve((6, 8))
    assert prep.crop == {"rows": [0, 3], "cols": [0, 4]}
    np.testing.assert_array_equal(prep.apply(x), x[:, :3, :4])


# ------------------------------------------------------------- coarsen
def test_coarsen_ignores_nan_and_all_nan_block_is_nan():
    x = _frames((2, 3, 6, 8, 2), nan_fraction=0.3)
    x[0, 0, :2, :4, 1] = np.nan  # one block with no finite value
    prep = Preprocessing(coarsen=[2, 4]).resolve((6, 8))
    out = prep.apply(x)
    assert out.shape == (2, 3, 3, 2, 2) and out.dtype == np.float32
    expected = _block_mean_loop(x, 2, 4)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    assert np.isnan(out[0, 0, 0, 0, 1])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))


def test_coarsen_drops_remainder_and_warns_once(caplog):
    x = _frames((1, 7, 9, 1))
    with caplog.at_level(logging.WARNING, logger="keras_svq.data.preprocessing"):
        prep = Preprocessing(coarsen=2).resolve((7, 9))
        Preprocessing.from_config(prep.get_config())
    assert len(caplog.records) == 1
    assert "drops the last 1 row(s) and 1 column(s)" in caplog.text
    assert prep.output_shape == (3, 4)
    np.testing.assert_allclose(
        prep.apply(x), _block_mean_loop(x[:, :6, :8], 2, 2), rtol=1e-6, atol=1e-6
    )
    back = prep.undo(prep.apply(x))
    assert back.shape == (1, 7, 9, 1)
    assert np.isnan(back[:, 6]).all() and np.isnan(back[:, :, 8]).all()


def test_undo_after_coarsen_repeats_blocks_inside_crop():
    x = _frames((2, 6, 8, 1))
    prep = Preprocessing(crop={"rows": [2, 6], "cols": [0, 6]}, coarsen=2).resolve(
        (6, 8)
    )
    forecast = _frames((2,) + prep.output_shape + (1,), seed=1)
    back = prep.undo(forecast)
    assert back.shape == x.shape
    repeated = np.repeat(np.repeat(forecast, 2, axis=1), 2, axis=2)
    np.testing.assert_array_equal(back[:, 2:6, 0:6], repeated)
    assert np.isnan(back[:, :2]).all() and np.isnan(back[:, :, 6:]).all()


# ----------------------------------------------------------------- pad
def test_pad_reflect_constant_edge_and_mask():
    x = _frames((2, 3, 5, 1))
    reflect = Preprocessing(pad_to_multiple=4).resolve((3, 5))
    assert reflect.output_shape == (4, 8)
    np.testing.assert_array_equal(
        reflect.apply(x), np.pad(x, [(0, 0), (0, 1), (0, 3), (0, 0)], mode="reflect")
    )
    constant = Preprocessing(pad_to_multiple=4, pad_mode="constant").resolve((3, 5))
    padded = constant.apply(x)
    np.testing.assert_array_equal(padded[:, :3, :5], x)
    assert np.isnan(padded[:, 3:]).all() and np.isnan(padded[:, :, 5:]).all()
    # 2 -> 4 needs a pad of 2 > size - 1, more than reflect allows: the edge repeats.
    edge = Preprocessing(pad_to_multiple=4).resolve((2, 2))
    small = x[:, :2, :2]
    np.testing.assert_array_equal(
        edge.apply(small), np.pad(small, [(0, 0), (0, 2), (0, 2), (0, 0)], mode="edge")
    )
    for prep in (reflect, constant):
        mask = prep.apply_mask(np.ones((2, 3, 5), bool))
        assert mask.shape == (2, 4, 8)
        assert mask[:, :3, :5].all() and not mask[:, 3:].any()
        assert not mask[:, :, 5:].any()


def test_undo_inverts_apply_on_crop_with_pad_only():
    x = _frames((2, 6, 8, 2), nan_fraction=0.2)
    prep = Preprocessing(crop={"rows": [1, 6], "cols": [1, 8]}, pad_to_multiple=4)
    prep = prep.resolve((6, 8))
    assert prep.output_shape == (8, 8)
    back = prep.undo(prep.apply(x))
    np.testing.assert_array_equal(back[:, 1:6, 1:8], x[:, 1:6, 1:8])
    assert np.isnan(back[:, 0]).all() and np.isnan(back[:, :, 0]).all()


# ------------------------------------------------------- mask and coords
def test_apply_mask_block_any_with_and_without_channels():
    mask = np.zeros((3, 4, 6), bool)
    mask[0, 1, 1] = True  # one valid pixel makes the block (0, 0) valid
    prep = Preprocessing(coarsen=2, pad_to_multiple=2).resolve((4, 6))
    out = prep.apply_mask(mask)
    assert out.shape == (3, 2, 4) and out.dtype == bool
    expected = np.zeros((3, 2, 4), bool)
    expected[0, 0, 0] = True
    np.testing.assert_array_equal(out, expected)
    with_channels = prep.apply_mask(np.repeat(mask[..., None], 2, axis=-1))
    np.testing.assert_array_equal(with_channels, np.repeat(expected[..., None], 2, -1))


def test_apply_coords_coarsens_and_extrapolates_padding():
    prep = Preprocessing(crop={"rows": [0, 6], "cols": [1, 7]}, coarsen=2)
    prep = Preprocessing(**{**prep.get_config(), "pad_to_multiple": 4}).resolve((6, 8))
    coords = prep.apply_coords({"lat": LAT, "x": LON})
    # lat blocks (60, 55) (50, 45) (40, 35) -> 57.5 47.5 37.5, padded by one step.
    np.testing.assert_allclose(coords["lat"], [57.5, 47.5, 37.5, 27.5])
    np.testing.assert_allclose(coords["x"], [-2.5, 7.5, 17.5, 27.5])


# ---------------------------------------------------------- TensorFlow
@pytest.mark.parametrize(
    "config, frame_shape",
    [
        ({"coarsen": 2, "pad_to_multiple": 4}, (6, 10)),
        ({"crop": {"rows": [1, 6], "cols": [0, 7]}, "pad_to_multiple": 4}, (6, 8)),
        ({"coarsen": [1, 2], "pad_to_multiple": 4, "pad_mode": "constant"}, (6, 8)),
        ({"pad_to_multiple": 4}, (2, 3)),  # edge fallback
        ({}, (6, 8)),
    ],
)
def test_tf_versions_equal_numpy_with_free_batch(config, frame_shape):
    prep = Preprocessing(**config).resolve(frame_shape)
    shape = (3, 2) + frame_shape + (2,)
    x = _frames(shape, nan_fraction=0.3)
    forecast = _frames((3, 2) + prep.output_shape + (2,), nan_fraction=0.1, seed=2)
    apply = tf.function(
        prep.tf_apply, input_signature=[tf.TensorSpec((None,) + shape[1:])]
    )
    undo = tf.function(
        prep.tf_undo, input_signature=[tf.TensorSpec((None,) + forecast.shape[1:])]
    )
    applied = apply.get_concrete_function().structured_outputs
    assert applied.shape.as_list() == [None, 2, *prep.output_shape, 2]
    undone = undo.get_concrete_function().structured_outputs
    assert undone.shape.as_list() == [None, 2, *frame_shape, 2]
    np.testing.assert_allclose(apply(x).numpy(), prep.apply(x), rtol=1e-6)
    np.testing.assert_array_equal(undo(forecast).numpy(), prep.undo(forecast))


# -------------------------------------------------------------- config
def test_config_round_trip_and_identity():
    prep = Preprocessing(crop={"lat": [40, 55]}, coarsen=[1, 2], pad_to_multiple=4)
    assert not prep.is_identity and not prep.is_resolved
    clone = Preprocessing.from_config(json.loads(json.dumps(prep.get_config())))
    assert clone.get_config() == prep.get_config()
    resolved = prep.resolve((6, 8), coords={"lat": LAT})
    config = json.loads(json.dumps(resolved.get_config()))
    assert config == {
        "crop": {"rows": [1, 5], "cols": [0, 8]},
        "coarsen": [1, 2],
        "pad_to_multiple": 4,
        "pad_mode": "reflect",
        "input_shape": [6, 8],
    }
    restored = Preprocessing.from_config(config)
    x = _frames()
    np.testing.assert_array_equal(restored.apply(x), resolved.apply(x))
    assert repr(restored).startswith("Preprocessing(crop={'rows': [1, 5]")
    assert Preprocessing().is_identity
    assert Preprocessing(coarsen=1, pad_to_multiple=2).resolve((4, 6)).is_identity
    assert not Preprocessing(coarsen=2, pad_to_multiple=4).resolve((4, 4)).is_identity
    identity = Preprocessing().resolve((6, 8))
    np.testing.assert_array_equal(identity.undo(identity.apply(x)), x)


# -------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"coarsen": 0}, r"`coarsen` must be .* Received: coarsen=0"),
        ({"coarsen": [2]}, r"pair \[fh, fw\].*Received: coarsen=\[2\]"),
        ({"coarsen": 1.5}, r"Received: coarsen=1.5"),
        ({"pad_to_multiple": 0}, r"integer >= 1. Received: pad_to_multiple=0"),
        (
            {"pad_mode": "wrap"},
            r"Valid: 'reflect', 'constant'. Received: pad_mode='wrap'",
        ),
        ({"crop": {"row": [0, 2]}}, r"Unknown `crop` key\(s\) 'row'. Valid: 'rows'"),
        ({"crop": [3]}, r"`\[H, W\]`.*Received: crop=\[3\]"),
        ({"crop": "north"}, r"`crop` must be None, a dict.*Received: crop='north'"),
        ({"crop": {"rows": [3, 3]}}, r"non-empty half-open.*Received: crop="),
        ({"crop": {"rows": [0, 2], "lat": [1, 2]}}, r"row range more than once"),
        ({"crop": {"lat": [1]}}, r"`crop\['lat'\]` must be a pair"),
        ({"crop": {"lon": [0, "e"]}}, r"two finite coordinate values"),
        ({"input_shape": (6,)}, r"`input_shape` must be \(H, W\).*Received"),
        (
            {"crop": {"lat": [40, 50]}, "input_shape": (6, 8)},
            r"needs the grid's coordinates: call `resolve",
        ),
    ],
)
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Preprocessing(**kwargs)


def test_resolve_and_call_errors():
    lat_crop = Preprocessing(crop={"lat": [40, 50]})
    with pytest.raises(
        ValueError, match=r"needs the grid's coordinates.*'rows'/'cols'"
    ):
        lat_crop.resolve((6, 8))
    with pytest.raises(ValueError, match=r"selects no pixel of the frame of shape"):
        Preprocessing(crop={"lat": [0, 10]}).resolve((6, 8), coords={"lat": LAT})
    with pytest.raises(ValueError, match=r"length 6 .*Received: lat.shape=\(5,\)"):
        lat_crop.resolve((6, 8), coords={"lat": LAT[:5]})
    with pytest.raises(ValueError, match=r"needs monotonic coordinates"):
        lat_crop.resolve((6, 8), coords={"lat": [40, 60, 60, 60, 50, 35]})
    with pytest.raises(
        ValueError, match=r"outside the frame of shape \(H, W\)=\(6, 8\)"
    ):
        Preprocessing(crop={"cols": [2, 9]}).resolve((6, 8))
    with pytest.raises(ValueError, match=r"outside the frame .*Received: crop"):
        Preprocessing(crop=[7, 8]).resolve((6, 8))
    with pytest.raises(
        ValueError, match=r"`coarsen` factor 4 is larger than the cropped"
    ):
        Preprocessing(crop=[3, 8], coarsen=4).resolve((6, 8))
    with pytest.raises(ValueError, match=r"`frame_shape` must be.*Received"):
        Preprocessing().resolve((2, 6, 8, 1))
    with pytest.raises(ValueError, match=r"`Preprocessing.apply` needs a resolved"):
        Preprocessing(coarsen=2).apply(_frames())
    with pytest.raises(ValueError, match=r"`Preprocessing.output_shape` needs"):
        Preprocessing().output_shape  # noqa: B018
    prep = Preprocessing(coarsen=2).resolve((6, 8))
    with pytest.raises(ValueError, match=r"`frames` must be .*Received: frames.shape"):
        prep.apply(_frames((2, 6, 6, 1)))
    with pytest.raises(ValueError, match=r"`forecast` must be .*\(H, W\)=\(3, 4\)"):
        prep.undo(_frames((2, 6, 8, 1)))
    with pytest.raises(ValueError, match=r"`mask` must be"):
        prep.apply_mask(np.ones((5, 5), bool))
    with pytest.raises(ValueError, match=r"`tensor` must be"):
        prep.tf_apply(tf.zeros((1, 2, 6, 6, 1)))
