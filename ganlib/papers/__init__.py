"""One file per paper, in the order the lessons teach them; a paper imports the core and earlier papers only.

gan (lesson 01), dcgan (02), cgan (03), wgan (04), pix2pix (05), cyclegan (06), infogan (07), sgan (08).
"""

from . import gan, dcgan, cgan, wgan, pix2pix, cyclegan, infogan, sgan

__all__ = ["gan", "dcgan", "cgan", "wgan", "pix2pix", "cyclegan", "infogan", "sgan"]
