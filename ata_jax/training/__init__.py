"""Training on top of the simulation: problems with stochastic gradients, SGD/Adam iterates
(vmapped over seeds, scanned over rounds), joined to each allocator's runtime and worker time.

    from ata_jax.training import PROBLEMS, make_problem, train
    run = train(make_problem("quadratic"), model, POLICY_NAMES, budget=23, num_rounds=10_000,
                num_seeds=5)
"""

from ata_jax.training.decimation import CheckpointSchedule, checkpoint_schedule
from ata_jax.training.digits import (DigitsDataset, MissingDependencyError,
                                     load_digits_dataset)
from ata_jax.training.iterates import OPTIMIZERS, TrainingDivergedError
from ata_jax.training.loss_curve import (LossCurve, LossCurveError, read_loss_curve,
                                         shipped_loss_curve, train_on_loss_curve)
from ata_jax.training.problem import SUBOPTIMALITY, TRAINING_LOSS, Problem
from ata_jax.training.registry import PROBLEMS, make_problem
from ata_jax.training.run import TrainingRun, train

__all__ = ["PROBLEMS", "make_problem", "train", "TrainingRun", "Problem", "OPTIMIZERS",
           "TrainingDivergedError", "MissingDependencyError", "CheckpointSchedule",
           "checkpoint_schedule", "DigitsDataset", "load_digits_dataset", "SUBOPTIMALITY",
           "TRAINING_LOSS", "LossCurve", "LossCurveError", "read_loss_curve",
           "shipped_loss_curve", "train_on_loss_curve"]
