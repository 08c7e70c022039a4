"""PhyDNet (PhyCell + ConvLSTM)."""

from zoo.phydnet.phycell import PhyCell
from zoo.phydnet.phydnet_backbone import PhyDNetBackbone
from zoo.phydnet.phydnet_conv_block import PhyDNetConvBlock
from zoo.phydnet.phydnet_stack import PhyDNetStack
