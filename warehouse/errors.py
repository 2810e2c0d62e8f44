"""The one error type of the warehouse package (its own module so every other module can import it)."""


class WarehouseError(RuntimeError):
    """The warehouse refused or failed an operation; the message says what and, where known, why."""
