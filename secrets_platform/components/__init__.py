"""One ComponentResource per module; :mod:`components.platform` maps the resolved model's specs (:mod:`secrets_platform.model`) to them."""
