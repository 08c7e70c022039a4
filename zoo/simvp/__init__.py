"""SimVP (v1, v2), TAU and SimVP+SVQ."""

from zoo.simvp.simvp_backbone import SimVPBackbone
from zoo.simvp.simvp_decoder import SimVPDecoder
from zoo.simvp.simvp_encoder import SimVPEncoder

__all__ = ["SimVPBackbone", "SimVPDecoder", "SimVPEncoder"]
