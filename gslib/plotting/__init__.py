"""One figure style for the whole book: fields, RGB composites of snapshots, the (k, f) plane, and the
figures of every chapter.

Every function here works with any Matplotlib backend, Agg included, and none calls ``plt.show()``.
The package has a shared core and one module per chapter topic; all their public names are
available from ``gslib.plotting`` itself:

* :mod:`gslib.plotting.core`: the style (:data:`STYLE`, :func:`use_style`), fields, RGB composites and
  samples, the phase plane, the class colours, colour tables, saving figures and HTML tables.
* :mod:`gslib.plotting.theory`: chapter 1, the regions of the (k, f) plane and dispersion relations.
* :mod:`gslib.plotting.cnn`: chapter 2, the classifier's points, training curves, confusion, attributions.
* :mod:`gslib.plotting.maps`: chapter 3, class maps and values of scans, montages, flagged regions.
* :mod:`gslib.plotting.equations`: chapter 4, equation inference from stochastic data.
* :mod:`gslib.plotting.inverse`: chapter 5, losses and fits of the inverse problem.

Conventions: fields are ``(N, M)`` arrays indexed ``[row, column]``, shown with ``origin="lower"``
in model length units. Maps of the (k, f) plane draw k along x and f along y; functions that take
the points' rates take them as the keywords ``f`` and ``k``.
"""

from __future__ import annotations

from .cnn import plot_attributions, plot_class_points, plot_confusion, plot_training_history
from .core import (
    STYLE,
    class_colors,
    colormap_lut,
    html_table,
    plot_field,
    plot_field_grid,
    plot_fields,
    plot_phase_plane,
    plot_rgb,
    plot_sample,
    rgb_composite,
    save,
    show_table,
    use_style,
)
from .equations import (
    animation_html,
    plot_apparent_diffusivity,
    plot_coefficient_check,
    plot_lag_errors,
    plot_noise_study,
    plot_pareto_fronts,
    plot_ratio_by_factor,
    plot_structure_factors,
)
from .inverse import (
    PARAMETER_LABELS,
    plot_descent,
    plot_loss_map,
    plot_loss_sections,
    plot_loss_surface,
    plot_relative_losses,
    plot_residual_robustness,
    plot_target_spectrum,
)
from .maps import (
    plot_class_map,
    plot_class_maps_compared,
    plot_class_montage,
    plot_flag_maps,
    plot_pattern_rows,
    plot_scan_values,
    plot_split_points,
    region_rows,
)
from .theory import REGION_COLORS, plot_class_gallery, plot_dispersion, plot_region_map, region_legend_handles

__all__ = [
    "STYLE",
    "use_style",
    "plot_field",
    "plot_fields",
    "rgb_composite",
    "plot_rgb",
    "plot_sample",
    "plot_field_grid",
    "plot_phase_plane",
    "class_colors",
    "colormap_lut",
    "save",
    "html_table",
    "show_table",
    "REGION_COLORS",
    "plot_region_map",
    "region_legend_handles",
    "plot_dispersion",
    "plot_class_gallery",
    "plot_class_points",
    "plot_training_history",
    "plot_confusion",
    "plot_attributions",
    "plot_class_map",
    "plot_scan_values",
    "plot_class_montage",
    "plot_flag_maps",
    "plot_pattern_rows",
    "plot_split_points",
    "plot_class_maps_compared",
    "region_rows",
    "plot_lag_errors",
    "plot_pareto_fronts",
    "plot_structure_factors",
    "plot_apparent_diffusivity",
    "plot_ratio_by_factor",
    "animation_html",
    "plot_coefficient_check",
    "plot_noise_study",
    "PARAMETER_LABELS",
    "plot_target_spectrum",
    "plot_descent",
    "plot_loss_sections",
    "plot_loss_map",
    "plot_loss_surface",
    "plot_relative_losses",
    "plot_residual_robustness",
]
