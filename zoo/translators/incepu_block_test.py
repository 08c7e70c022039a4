from keras_svq.testing import TestCase
from zoo.translators import IncepUBlock


class TestIncepUBlock(TestCase):
    def test_battery(self):
        self.run_layer_test(
            IncepUBlock,
            {"hidden_dim": 8, "output_dim": 16, "kernel_sizes": (3, 5)},
            input_shape=(2, 6, 6, 4),
            expected_output_shape=(2, 6, 6, 16),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_groups_fall_back_to_one(self):
        # As in the reference, 12 hidden channels are not divisible by 8 groups.
        block = IncepUBlock(12, 16)
        assert all(branch.groups == 1 for branch in block.branches)
        assert IncepUBlock(16, 16).branches[0].groups == 8
