"""Shipped lecture scenes, installed with the package too (the viewer opens self_twist)."""
