"""What a lab codes against: the hooks, ``Lab`` and ``LabContext``, the plugin manager (which
also collects every plugin's models into a registry), verdicts, the scaffold and test helpers.
Imports only science, models, data and the leaf modules.
"""
