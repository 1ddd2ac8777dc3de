"""A-priori widths and probabilities, and the certified a-posteriori bound (docs/theory.md §3-4, derived here)

Notation: ``dims = (n_0, n_1, ..., n_l)`` with ``n_0 = d`` the input dimension; layer ``i``
(1-based) has fan-in ``n_{i-1}`` and fan-out ``n_i``. Every probability here concerns one
*candidate* hidden unit with weights ``u, v`` drawn i.i.d. from ``U[-1, 1]`` (docs/theory.md §1), one
target weight ``w`` and one sign event of ``u`` (the ``P`` or ``N`` half of the gadget, §2).

The chain of the a-priori bound (docs/theory.md §3-4):

1. per-weight tolerance ``eta_i`` (:func:`per_weight_tolerance`) such that per-weight errors
   ``<= eta_i`` give ``sum_i c_i <= ln(1 + eps)`` and hence ``E_l <= eps``;
2. probability ``p_i`` that one candidate hits a weight within ``eta_i``
   (:func:`hit_probability`, :func:`matching_probability`), minimised over the admissible weights
   (:func:`worst_case_probability`);
3. a union bound over the ``N_ev`` (output, input, sign) events (:func:`event_count`) gives the
   block size ``k_i`` (:func:`block_size_for`, :func:`theorem_block_sizes`,
   :func:`instance_block_sizes`) and the failure probability (:func:`failure_probability`).

Modules: :mod:`~stronglth.bounds.probability` (steps 1-2), :mod:`~stronglth.bounds.block_size`
(step 3 and the sparsity bound), :mod:`~stronglth.bounds.certified` (the a-posteriori side).

The a-posteriori side (docs/theory.md §3): :func:`layer_error_constant` computes ``c_i`` from a
constructed ticket and :func:`certified_error` propagates it through the network.
"""

from stronglth.bounds.block_size import (
    block_size_for,
    event_count,
    failure_probability,
    instance_block_sizes,
    max_weight,
    nnz_bound,
    per_weight_tolerance,
    theorem_block_sizes,
)
from stronglth.bounds.burkholz import (
    burkholz_amplification,
    burkholz_dims,
    burkholz_event_counts,
    burkholz_failure_probability,
    burkholz_parameter_count,
    burkholz_theorem_block_sizes,
    burkholz_tolerances,
    subset_sum_block_size,
    subset_sum_failure,
)
from stronglth.bounds.certified import certified_error, certified_error_trace, layer_error_constant
from stronglth.bounds.orseau import (
    ORSEAU_BASE,
    ORSEAU_LEVEL_WIDTH,
    orseau_block_sizes,
    orseau_depth,
    orseau_failure_probability,
    orseau_hyperbolic_parameters,
    orseau_layer_parameters,
    orseau_level_probability,
    orseau_levels,
    orseau_start_level,
    orseau_top_level,
    orseau_units_per_weight_bound,
    orseau_widths,
)
from stronglth.bounds.probability import RULES, hit_probability, matching_probability, product_cdf, worst_case_probability

__all__ = [
    "RULES",
    "product_cdf",
    "hit_probability",
    "matching_probability",
    "per_weight_tolerance",
    "event_count",
    "max_weight",
    "worst_case_probability",
    "block_size_for",
    "theorem_block_sizes",
    "instance_block_sizes",
    "failure_probability",
    "nnz_bound",
    "layer_error_constant",
    "certified_error",
    "certified_error_trace",
    # Orseau et al. 2020 (docs/theory.md §13): stronglth.bounds.orseau
    "ORSEAU_BASE",
    "ORSEAU_LEVEL_WIDTH",
    "orseau_depth",
    "orseau_levels",
    "orseau_start_level",
    "orseau_top_level",
    "orseau_units_per_weight_bound",
    "orseau_hyperbolic_parameters",
    "orseau_level_probability",
    "orseau_block_sizes",
    "orseau_widths",
    "orseau_failure_probability",
    "orseau_layer_parameters",
    # Burkholz 2022 (docs/theory.md §14): stronglth.bounds.burkholz
    "burkholz_dims",
    "burkholz_parameter_count",
    "burkholz_event_counts",
    "burkholz_amplification",
    "burkholz_tolerances",
    "burkholz_theorem_block_sizes",
    "burkholz_failure_probability",
    "subset_sum_failure",
    "subset_sum_block_size",
]
