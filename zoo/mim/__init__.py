"""MIM (Memory In Memory)."""

from zoo.mim.mim_backbone import MIMBackbone
from zoo.mim.mim_block import MIMBlock
from zoo.mim.mim_stack import MIMStack
from zoo.mim.mimn_cell import MIMNCell
