"""Exception hierarchy: every error a user can cause is an ``SdrcastError`` with an actionable message."""


class SdrcastError(Exception):
    """Base class of all sdrcast errors; the CLI prints these as one line."""


class ConfigError(SdrcastError, ValueError):
    """A configuration field or argument has a value that is not allowed."""


class DeviceError(SdrcastError):
    """A radio, socket or file could not be opened or used."""


class ParseError(SdrcastError, ValueError):
    """Received or user-supplied data does not follow its format (the message names the field);
    receivers count such data and go on."""


class SyncLost(SdrcastError):
    """A receiver lost synchronisation and could not recover within its budget."""


class FlowgraphError(SdrcastError):
    """A block of a running flowgraph raised; the message names the block."""
