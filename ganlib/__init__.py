"""ganlib: the tested helpers of the GAN course. Each module names the lesson that teaches it.

A core organised by role (config, utils, validate, shapes, data, sampling, layers, losses, schedules,
training, datasets), then ``evaluation``, ``plotting`` and ``widgets``, then ``papers`` (one file per
paper) and ``checks`` (one checker file per lesson). Imports flow one way, in that order.

Importing ganlib does no work and keeps no state: no data is read, no device is touched.
"""

from . import config, utils, validate, shapes, data, sampling, layers, losses, schedules, training, pretrained, datasets
from . import evaluation, plotting, widgets, papers, checks
from .config import per_mode, run_mode, settings
from .data import Batches, load_dataset, load_mnist
from .losses import AdversarialLoss
from .sampling import balanced_labels, fixed_noise, generate, sample_noise
from .pretrained import load_pretrained
from .training import Trainer, frozen, gan_steps
from .utils import get_device, seed_everything

__version__ = "0.1.0"
__all__ = [
    "config", "utils", "validate", "shapes", "data", "sampling", "layers", "losses", "schedules", "training", "pretrained",
    "datasets", "evaluation", "plotting", "widgets", "papers", "checks",
    "per_mode", "run_mode", "settings", "Batches", "load_dataset", "load_mnist", "AdversarialLoss",
    "balanced_labels", "fixed_noise", "generate", "sample_noise", "Trainer", "frozen", "gan_steps", "load_pretrained",
    "get_device", "seed_everything",
]
