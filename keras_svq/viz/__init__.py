"""Plots: forecast maps and training curves (matplotlib, Agg backend).

The richer figures (`plot_forecast_panels`, `plot_skill_by_lead`, the SVQ
views, `plot_training_history`) return a matplotlib `Figure`; save it with
`save_figure`. Attribution (tf-keras-vis) lives in `keras_svq.viz.attribution`,
the figure-writing functions behind `keras-svq plot` and `keras-svq explain`
in `keras_svq.viz.commands` (their command-line options in
`keras_svq.commands.plot` and `keras_svq.commands.explain`), and the rule that
picks default example windows in `keras_svq.viz.example_choice`.
"""

from keras_svq.viz.animation import animate_forecast
from keras_svq.viz.codebook_plots import plot_code_weight_histogram
from keras_svq.viz.codebook_plots import plot_codebook_projection
from keras_svq.viz.codebook_plots import plot_codebook_usage
from keras_svq.viz.codebook_plots import plot_sparsity_over_training
from keras_svq.viz.example_choice import choose_examples
from keras_svq.viz.figures import save_figure
from keras_svq.viz.forecast_panels import plot_forecast_panels
from keras_svq.viz.run_plots import load_history
from keras_svq.viz.run_plots import plot_training_history
from keras_svq.viz.skill_plots import plot_skill_by_lead
from keras_svq.viz.skill_plots import plot_skill_scores
from keras_svq.viz.skill_plots import skill_per_lead_time

__all__ = [
    "animate_forecast",
    "choose_examples",
    "load_history",
    "plot_code_weight_histogram",
    "plot_codebook_projection",
    "plot_codebook_usage",
    "plot_forecast_panels",
    "plot_skill_by_lead",
    "plot_skill_scores",
    "plot_sparsity_over_training",
    "plot_training_history",
    "save_figure",
    "skill_per_lead_time",
]
