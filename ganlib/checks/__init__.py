"""Self-checking exercises: one checker file per lesson, all reached as ``ganlib.checks.check_...``.

The naming rule: the checkers of notebook ``notebooks/NN_<topic>.ipynb`` live in
``checks/lessonNN_<topic>.py``, are tested by ``tests/checks/test_lessonNN.py``, and check the
solutions in ``solutions/NN_<topic>.py``. ``checks/core.py`` holds only what several lessons'
checkers share (:class:`CheckResult`, running the learner's function, its random state).

A checker never raises: it returns a :class:`CheckResult`, truthy when the exercise passes, whose
message says in plain words what is wrong.
"""

from .core import CheckResult
from .lesson01_mlp_gan import check_d_step, check_generator_loss
from .lesson02_dcgan import check_generator_32, check_generator_32_trains, check_transposed_conv_size
from .lesson02b_dcgan_to_lsgan import check_lsgan_d_loss, check_lsgan_g_loss, check_raw_score_discriminator
from .lesson03_cgan import check_label_maps, check_projection_score, check_wrong_labels
from .lesson04_wgan import check_clip_weights, check_gradient_penalty
from .lesson05_pix2pix import check_pix2pix_g_loss, check_receptive_field
from .lesson06_cyclegan import check_cycle_consistency, check_identity_loss, check_pool_query
from .lesson07_infogan import check_categorical_info_loss, check_code_reading
from .lesson08_semi_supervised_gan import check_feature_matching, check_unsupervised_d_loss

__all__ = [
    "CheckResult",
    "check_d_step", "check_generator_loss",                                              # lesson 01
    "check_transposed_conv_size", "check_generator_32", "check_generator_32_trains",     # lesson 02
    "check_lsgan_d_loss", "check_lsgan_g_loss", "check_raw_score_discriminator",         # lesson 02b
    "check_label_maps", "check_projection_score", "check_wrong_labels",                  # lesson 03
    "check_gradient_penalty", "check_clip_weights",                                      # lesson 04
    "check_receptive_field", "check_pix2pix_g_loss",                                     # lesson 05
    "check_identity_loss", "check_cycle_consistency", "check_pool_query",                # lesson 06
    "check_categorical_info_loss", "check_code_reading",                                 # lesson 07
    "check_unsupervised_d_loss", "check_feature_matching",                               # lesson 08
]
