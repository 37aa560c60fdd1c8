"""One ComponentResource per module; :mod:`components.platform` wires them for one stack."""
