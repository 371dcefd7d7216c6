"""The deterministic demo generator: plans the registry on the real map, then asks the owning apps to write it."""
