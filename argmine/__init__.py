"""argmine: the argument structure of comment threads.

thread → comments → components (claims, premises) → stance toward the post → evaluation.
"""

__version__ = "0.1.0"
