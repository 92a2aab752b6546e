"""The simulated weld station: a physical model of resistance microwelding behind the protocols."""
