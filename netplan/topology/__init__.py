"""The topology file: its model (schema v1), loading with positions, and its checks."""

from netplan.topology.loader import load_topology
from netplan.topology.model import Topology

__all__ = ["Topology", "load_topology"]
