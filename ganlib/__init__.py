"""ganlib: the tested helpers of the GAN course. Each module names the lesson that teaches it.

Importing ganlib does no work and keeps no state: no data is read, no device is touched.
"""

from . import checks, config, data, evaluator, losses, metrics, models, plotting, shapes, training, utils, widgets
from . import download, translation, translation_data
from . import wgan
from .config import run_mode, settings, per_mode
from .data import Batches, balanced_labels, fixed_noise, load_dataset, load_mnist, sample_noise
from .losses import AdversarialLoss
from .training import Trainer, gan_steps, generate
from .utils import get_device, seed_everything

__version__ = "0.1.0"
__all__ = [
    "checks", "config", "data", "evaluator", "losses", "metrics", "models", "plotting", "shapes", "training", "utils",
    "widgets", "download", "translation", "translation_data", "wgan",
    "run_mode", "settings", "per_mode", "Batches", "balanced_labels", "fixed_noise", "load_dataset", "load_mnist",
    "sample_noise", "AdversarialLoss", "Trainer", "gan_steps", "generate", "get_device", "seed_everything",
]
