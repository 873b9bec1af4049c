"""Self-hosted MemOS: the cloud protocol served by the open-source server's ``/product`` routes."""

from langchain_memos._selfhosted._scope import SelfHostedOptions
from langchain_memos._selfhosted.transport import SelfHostedTransport

__all__ = ["SelfHostedOptions", "SelfHostedTransport"]
