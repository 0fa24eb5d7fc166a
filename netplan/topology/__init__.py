"""The topology file: its model (schema v1, netplan.topology.model), loading with positions
(netplan.topology.loader), and its checks.

Nothing is imported here: a command that only needs where a value was written
(netplan.topology.positions) does not pay for the model's pydantic classes."""
