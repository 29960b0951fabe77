"""The built-in labs: one package each, found the same way a student's lab is."""
