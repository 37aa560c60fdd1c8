"""What each command does, apart from its flags and its output.

One module per command: it takes the command's :class:`~secrets_platform.cli.context.StackContext`
and options, does the work (reads, checks, writes, engine and cluster calls) and returns plain
results or raises a :class:`~secrets_platform.cli.errors.CliError`. ``main.py`` holds the click
flags and renders those results; nothing here prints, except where a command's contract is to
talk while it works (``rotate``'s preview before its prompt, through callbacks main.py passes).
"""
