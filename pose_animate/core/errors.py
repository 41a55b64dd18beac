"""The one error type users see: it names the subject, the file and the fix."""


class PoseAnimateError(Exception):
    """A problem a user can act on.

    str() reads: "subject 'bob': results/x.json: the problem. Fix: what to do."
    `job` replaces the subject for jobs about several subjects ("render edn a__b").
    """

    def __init__(self, problem: str, *, subject: str | None = None, path=None,
                 fix: str | None = None, job: str | None = None):
        self.problem, self.subject, self.path, self.fix, self.job = problem, subject, path, fix, job
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.subject:
            parts.append(f"subject '{self.subject}'")
        elif self.job:
            parts.append(self.job)
        if self.path is not None:
            parts.append(str(self.path))
        text = ": ".join(parts + [self.problem])
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def name_job(self, subject: str | None = None, job: str | None = None) -> "PoseAnimateError":
        """Name the subject (or the job) where the code that raised could not; in place, so a
        re-raise keeps the traceback."""
        if not self.subject and not self.job:
            self.subject, self.job = subject, job
            self.args = (self._message(),)
        return self
