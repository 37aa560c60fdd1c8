"""``secrets-platform``: operate the platform without ever showing a secret value.

Commands (see ``docs/cli.md``): ``list``, ``validate``, ``rotate``, ``status``,
``freshness``, ``diff``, ``dotenv`` and ``dbt-profile``. Each reads the stack file
through :mod:`settings` and describes Secrets through
:func:`secrets_platform.model.planned_descriptors`, or reads the deployed stack through
Pulumi's Automation API (:mod:`secrets_platform.cli.engine`). ``diff`` also plans a git ref's
tree with that ref's own program (:mod:`secrets_platform.cli.plan_export`, in a subprocess).

Deliberately not here: creating or editing credentials other than a rotation
bump (that is the stack file's job, reviewed like code), and printing values:
only ``dotenv`` handles values, and it writes them to a 0600 file, never to a stream.
"""
