"""Writing a package: atomic folder swap and the manifest that reconciles inputs and outputs."""
