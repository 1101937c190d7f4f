"""How good is a generator? The frozen MNIST evaluator and the numbers built on it (lesson 01 on).

stats (feature statistics, Fréchet distance, rank correlation) -> evaluator (the classifier) ->
metrics (classifier-FID, coverage, label accuracy, PSNR/SSIM, Inception FID) -> callbacks (FID while
training).
"""

from . import stats, evaluator, metrics, callbacks

__all__ = ["stats", "evaluator", "metrics", "callbacks"]
