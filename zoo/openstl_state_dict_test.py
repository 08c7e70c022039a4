"""Every official SimVP / SimVP+SVQ fixture is reproduced by the Keras port."""

import json
import pathlib

import numpy as np
import pytest

from keras_svq.testing import reference_path
from zoo import SimVPBackbone
from zoo import load_openstl_state_dict

FIXTURES = [
    "simvp_gsta",
    "simvp_gsta_svq_pre",
    "simvp_gsta_svq_post",
    "simvp_incepu",
    "simvp_incepu_svq_pre",
    "simvp_incepu_svq_post",
    "simvp_tau",
    "simvp_tau_svq_pre",
    "simvp_tau_svq_post",
    "simvp_gsta_ext",
    "simvp_incepu_ext",
    "simvp_tau_ext",
    "simvp_gsta_ext_svq_pre",
]


def backbone_kwargs(constructor_kwargs):
    """The official constructor arguments in `SimVPBackbone`'s names."""
    ck = constructor_kwargs
    frames, channels, height, width = ck["in_shape"]
    assert ck["spatio_kernel_enc"] == ck["spatio_kernel_dec"]
    kwargs = dict(
        input_length=frames,
        output_length=frames,
        height=height,
        width=width,
        channels=channels,
        spatial_hidden_dim=ck["hid_S"],
        temporal_hidden_dim=ck["hid_T"],
        num_spatial_layers=ck["N_S"],
        num_temporal_layers=ck["N_T"],
        translator=ck["model_type"],
        mlp_ratio=ck["mlp_ratio"],
        drop_rate=ck["drop"],
        drop_path_rate=ck["drop_path"],
        spatial_kernel_size=ck["spatio_kernel_enc"],
    )
    if "vq_kwargs" in ck:
        vq = ck["vq_kwargs"]
        kwargs["quantizer"] = {
            "name": "svq",
            "codebook_size": vq["codebook_size"],
            "hidden_dim": vq["middim"],
            "freeze_codebook": vq["freeze_codebook"],
            "linear": not vq["nonlinear"],
        }
        kwargs["quantizer_position"] = "post" if ck["post_vq"] else "pre"
    return kwargs


def load_fixture(name):
    data = np.load(reference_path(f"{name}.npz"))
    meta = json.loads(str(data["meta:json"]))
    state_dict = {k: data[k] for k in meta["state_keys"]}
    return data, meta, state_dict


def to_channels_last(x):
    return x.transpose(0, 1, 3, 4, 2)


@pytest.mark.parametrize("name", FIXTURES)
def test_reproduces_official_output(name):
    data, meta, state_dict = load_fixture(name)
    model = SimVPBackbone(**backbone_kwargs(meta["constructor_kwargs"]))
    load_openstl_state_dict(model, state_dict)
    y = np.asarray(model(to_channels_last(data["x"]), training=False))
    expected = to_channels_last(data["y"])
    # Localise a failure with the stored activations (see the fixture README).
    np.testing.assert_allclose(y, expected, atol=1e-4, rtol=1e-4)
    if "out:quantize" in data:
        quantizer_input = np.asarray(
            model.quantizer(np.asarray(data["out:continuous"]).transpose(0, 2, 3, 1))
        )
        np.testing.assert_allclose(
            quantizer_input, data["out:quantize"].transpose(0, 2, 3, 1), atol=1e-4
        )


def test_encoder_activation_matches():
    data, meta, state_dict = load_fixture("simvp_gsta_ext")
    model = SimVPBackbone(**backbone_kwargs(meta["constructor_kwargs"]))
    load_openstl_state_dict(model, state_dict)
    latent, skip = model.encoder(to_channels_last(data["x"]))
    latent = np.asarray(latent).reshape((-1,) + tuple(latent.shape[2:]))
    expected = data["act:enc.enc.3.conv.act"].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(latent, expected, atol=1e-4)


def test_strict_and_error_messages():
    _, meta, state_dict = load_fixture("simvp_gsta")
    model = SimVPBackbone(**backbone_kwargs(meta["constructor_kwargs"]))
    with pytest.raises(ValueError, match="not used by the Keras model.*extra.weight"):
        load_openstl_state_dict(model, {**state_dict, "extra.weight": np.zeros(1)})
    load_openstl_state_dict(
        model, {**state_dict, "extra.weight": np.zeros(1)}, strict=False
    )
    missing = dict(state_dict)
    missing.pop("dec.readout.bias")
    with pytest.raises(ValueError, match="no entry 'dec.readout.bias'"):
        load_openstl_state_dict(model, missing)
    wrong = SimVPBackbone(
        **{**backbone_kwargs(meta["constructor_kwargs"]), "spatial_hidden_dim": 16}
    )
    with pytest.raises(
        ValueError, match="Shape mismatch for 'enc.enc.0.conv.conv.weight'"
    ):
        load_openstl_state_dict(wrong, state_dict)


def test_data_parallel_prefix_is_stripped():
    data, meta, state_dict = load_fixture("simvp_tau")
    model = SimVPBackbone(**backbone_kwargs(meta["constructor_kwargs"]))
    load_openstl_state_dict(model, {"module." + k: v for k, v in state_dict.items()})
    y = np.asarray(model(to_channels_last(data["x"]), training=False))
    np.testing.assert_allclose(y, to_channels_last(data["y"]), atol=1e-4, rtol=1e-4)


def test_fixture_list_is_complete():
    folder = pathlib.Path(reference_path("simvp_gsta.npz")).parent
    assert sorted(p.stem for p in folder.glob("simvp_*.npz")) == sorted(FIXTURES)
