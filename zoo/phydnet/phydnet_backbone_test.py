import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo.phydnet.phycell import moment_matrix
from zoo.phydnet.phydnet_backbone import PhyDNetBackbone
from zoo.recurrent.testing import T2M
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import check_preset_param_counts
from zoo.recurrent.testing import symbolic_param_count
from zoo.recurrent.testing import t2m_reference

TINY_PHYDNET = {
    "input_length": 4,
    "output_length": 4,
    "height": 16,
    "width": 16,
    "channels": 1,
    "hidden_dims": [16, 64],
}
LIGHT = dict(
    run_fit=False,
    run_saved_model=False,
    run_distribution=False,
    run_mixed_precision=False,
    run_jit=False,
)


class TestPhyDNetBackbone(TestCase):
    def test_call_config_and_saving(self):
        self.run_backbone_test(PhyDNetBackbone, TINY_PHYDNET, TINY_SHAPE, **LIGHT)

    @pytest.mark.slow
    def test_full_battery(self):
        self.run_backbone_test(PhyDNetBackbone, TINY_PHYDNET, TINY_SHAPE)

    def test_t2m_param_count(self):
        reference = t2m_reference("PhyDNet")
        count = symbolic_param_count(
            PhyDNetBackbone,
            **T2M,
            downsample_factor=reference["model_kwargs"]["patch_size"],
        )
        # The reference's 196 buffer values are K2M's constant matrices.
        assert count == reference["total_params"] == 3_091_732

    def test_preset_param_counts(self):
        check_preset_param_counts(PhyDNetBackbone, ["taxibj/phydnet"])
        model = PhyDNetBackbone.from_preset("taxibj/phydnet", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match="not a PhyDNetBackbone one"):
            PhyDNetBackbone.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            PhyDNetBackbone.from_preset("taxibj/nope")

    @pytest.mark.slow
    def test_all_preset_param_counts(self):
        check_preset_param_counts(PhyDNetBackbone)

    def test_moment_loss(self):
        model = PhyDNetBackbone(**TINY_PHYDNET)
        x = np.random.default_rng(0).random(TINY_SHAPE).astype("float32")
        model(x, training=True)
        assert len(model.losses) == 1
        # Kernels whose moments are the identity basis have zero loss.
        moments = moment_matrix(7)
        inverse = np.linalg.inv(moments)
        basis = np.eye(49).reshape(49, 7, 7)
        kernels = np.einsum("ap,npq,bq->nab", inverse, basis, inverse)  # M^-1 e M^-T
        kernel = np.broadcast_to(
            kernels.transpose(1, 2, 0)[:, :, None, :], (7, 7, 64, 49)
        )
        cell = model.stack.phycell
        cell.conv1.conv.kernel.assign(kernel.astype("float32"))
        assert float(cell.moment_loss()) < 1e-6

    def test_errors(self):
        with pytest.raises(ValueError, match="2 or 4"):
            PhyDNetBackbone(**TINY_PHYDNET, downsample_factor=3)
        with pytest.raises(ValueError, match="must be 64"):
            PhyDNetBackbone(**{**TINY_PHYDNET, "hidden_dims": [16, 32]})
