"""MAU (motion-aware unit)."""

from zoo.mau.mau_backbone import MAUBackbone
from zoo.mau.mau_cell import MAUCell
from zoo.mau.mau_stack import MAUStack
