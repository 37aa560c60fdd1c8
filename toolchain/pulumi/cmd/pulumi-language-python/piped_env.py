# Started by the language host as `python -u -c <this> <script> args...` or
# `python -u -c <this> -m <module> args...`.
#
# The stack config (PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS) does not fit
# in one environment string once a stack is large: Linux refuses any single
# argument or environment string over 128 KiB (MAX_ARG_STRLEN) at exec time.
# So the host hands those variables over as one JSON object on an inherited
# pipe, names its descriptor in SECRETS_PLATFORM_PIPED_ENV_FD, and this puts
# them into os.environ, where the Pulumi SDK and pulumi_policy read them, before
# running the target the way `python <script>` or `python -m <module>` would.
import json
import os
import runpy
import sys


def _main() -> None:
    fd = os.environ.pop("SECRETS_PLATFORM_PIPED_ENV_FD", "")
    if fd:
        with open(int(fd), "rb") as pipe:
            os.environ.update(json.load(pipe))
    args = sys.argv[1:]
    if args[:1] == ["-m"] and len(args) > 1:
        sys.argv = [args[1], *args[2:]]
        if not sys.flags.safe_path:
            sys.path[0] = os.getcwd()
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    elif args:
        sys.argv = args
        if not sys.flags.safe_path:
            sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
        runpy.run_path(args[0], run_name="__main__")
    else:
        sys.exit("piped_env: nothing to run (expected a script or -m <module>)")


_main()
