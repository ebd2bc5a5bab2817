"""A loopback stand-in for the providers' real APIs: seeded, in memory, with faults on demand.

Google's hosts are served as path prefixes of one server; see `base_urls` for the settings
that point plaudit at it.
"""

from connectors.sandbox.server import SandboxServer, base_urls
from connectors.sandbox.state import SandboxState

__all__ = ["SandboxServer", "SandboxState", "base_urls"]
