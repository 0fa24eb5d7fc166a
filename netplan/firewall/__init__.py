"""The topology's packet filter and NAT: published ports, masquerade, isolation between
bridges, internal networks and icc, rendered as nftables tables netplan owns (pure)."""
