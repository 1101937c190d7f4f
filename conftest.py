"""pytest set-up for the whole test command: smoke mode and static widgets, also for nbval's kernels.

nbval starts one kernel per notebook as a child of this process, so the variables set here reach
the notebooks too.
"""

import os

os.environ["GANLIB_MODE"] = "smoke"
os.environ["GANLIB_WIDGETS"] = "static"
