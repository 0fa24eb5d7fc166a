"""netplan: a declarative network topology orchestrator."""

__version__ = "0.1.0"
