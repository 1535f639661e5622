"""The one exception type a person sees: a one-line message that says what to fix."""


class RotaError(Exception):
    """Bad input or an impossible request. ``str(err)`` is a single line for the user."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split("\n")))
