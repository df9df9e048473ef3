"""flexems optimizer: optimal schedules for home and community energy flexibility."""

from .problem.errors import ProblemError
from .scheduler import SolverError, schedule
from .solve.highs import SolverSettings

__all__ = ["ProblemError", "SolverError", "SolverSettings", "schedule"]
__version__ = "0.3.0"
