"""`python -m netplan`: the same CLI, for hosts where /usr/sbin/netplan (Ubuntu's) comes first."""

from netplan.cli import main

main()
