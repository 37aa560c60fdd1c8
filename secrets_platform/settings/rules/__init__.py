r"""The cross-field rules of a stack's config, one module per area (pydantic checks each field's shape).

Each ``check`` adds :class:`settings.errors.Problem`\ s through ``add``; :func:`settings.load.from_mapping`
runs them all and reports every problem at once.
"""
