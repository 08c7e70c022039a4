import numpy as np

from keras_svq.testing import TestCase
from zoo.phydnet.phycell import moment_matrix
from zoo.phydnet.phydnet_backbone import PhyDNetBackbone
from zoo.recurrent.testing import TINY_PHYDNET
from zoo.recurrent.testing import TINY_SHAPE


class TestPhyDNetBackbone(TestCase):
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
