"""actnet-util: data loading, the training loop, checkpoints, plots, demos and the
`actnet` command, over actnet-nn.

    from actnet.util import Trainer
    from actnet.util.data import DataLoader, TensorDataset
    history = Trainer(model, loss_fn, optimizer, checkpoint_dir="run").fit(
        DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0),
        epochs=20, resume=True)
"""

from actnet.util import data, text
from actnet.util._version import __version__
from actnet.util.checkpoint import (
    CheckpointError,
    CheckpointManager,
    CheckpointWarning,
    load_checkpoint,
    save_checkpoint,
)
from actnet.util.history import History
from actnet.util.memory_timeline import (
    MemoryTimeline,
    memory_timeline,
    record_memory_timeline,
)
from actnet.util.metrics import (
    Accuracy,
    ConfusionMatrix,
    Metric,
    TopKAccuracy,
    accuracy,
    confusion_matrix,
    top_k_accuracy,
)
from actnet.util.plots import save_plots
from actnet.util.summary import ModuleSummary, Summary, summary
from actnet.util.trainer import Callback, EarlyStopping, Trainer, fit

__all__ = [
    "Accuracy",
    "Callback",
    "CheckpointError",
    "CheckpointManager",
    "CheckpointWarning",
    "ConfusionMatrix",
    "EarlyStopping",
    "History",
    "MemoryTimeline",
    "Metric",
    "ModuleSummary",
    "Summary",
    "TopKAccuracy",
    "Trainer",
    "__version__",
    "accuracy",
    "confusion_matrix",
    "data",
    "fit",
    "load_checkpoint",
    "memory_timeline",
    "record_memory_timeline",
    "save_checkpoint",
    "save_plots",
    "summary",
    "text",
    "top_k_accuracy",
]
