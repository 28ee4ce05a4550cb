"""The one exception type the command line turns into a clean message instead of a traceback."""


class FTensorError(Exception):
    """A problem the user can fix; the message names the problem and the fix."""
