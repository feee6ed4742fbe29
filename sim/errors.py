"""Bad input: one clear message naming the file, key or line, then exit status 2."""


class InputError(Exception):
    """A user-facing input problem. str(e) is the whole message."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what
