"""The one error type users see: it names the subject, the file and the fix."""


class PoseAnimateError(Exception):
    """A problem a user can act on.

    str() reads: "subject 'bob': results/x.json: the problem. Fix: what to do."
    """

    def __init__(self, problem: str, *, subject: str | None = None, path=None,
                 fix: str | None = None):
        self.problem, self.subject, self.path, self.fix = problem, subject, path, fix
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.subject:
            parts.append(f"subject '{self.subject}'")
        if self.path is not None:
            parts.append(str(self.path))
        text = ": ".join(parts + [self.problem])
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def for_subject(self, subject: str) -> "PoseAnimateError":
        """The same error, naming the subject (stages add it where they know it)."""
        if self.subject:
            return self
        return PoseAnimateError(self.problem, subject=subject, path=self.path, fix=self.fix)
