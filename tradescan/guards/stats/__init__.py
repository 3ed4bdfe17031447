"""The statistics behind the guards, pure NumPy (DESIGN §7): one concept per module.

``sharpe`` (expected maximum Sharpe, PSR, DSR, return moments), ``trials`` (effective number of
independent trials), ``cscv`` (PBO), ``permutation`` (``permute_bars``, the permutation p-value),
``bootstrap`` (stationary-bootstrap interval of the profit factor), ``montecarlo`` (MC1 drawdowns,
MC2 cost noise), ``sensitivity`` (neighbour parameter sets, coefficient of variation),
``regime_live`` (live-feed regime labels against the batch ones), ``walk_forward`` (fold layout,
WFE, OOS Sharpe). The public names are re-exported by ``tradescan.guards``.
"""
