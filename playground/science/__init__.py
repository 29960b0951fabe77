"""The math, on arrays and tensors: geometry, losses, the training loop, zero-shot scoring.
Imports only models (the lazy torch, the registry's types), data and the leaf modules.
"""
