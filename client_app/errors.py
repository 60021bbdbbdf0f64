"""The client app's exceptions, each carrying one sentence fit to show a person."""


class ClientError(Exception):
    """Base class of the errors the client app shows on the page."""


class ClientConfigError(ClientError):
    """A setting (environment variable) is invalid."""


class ApiUnavailableError(ClientError):
    """The API could not be reached: connection refused, timeout, or an answer that is not JSON."""


class ApiAnswerError(ClientError):
    """The API answered with an error status; the message is the API's own sentence.

    Args:
        status: the HTTP status the API answered.
        message: the API's ``error`` sentence (or a generic one when it gave none).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
