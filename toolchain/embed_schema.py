#!/usr/bin/env python3
"""Prepare the files a provider main package embeds.

Provider main packages upstream embed a schema (with the release version
filled in) and, for some providers, a mapping file. Both are generated at
release time and are not part of the Go module zip, but the sources they are
generated from are. This script turns those sources into the embedded form:

    embed_schema.py --version 4.25.0 \
        --schema SRC/schema.json --schema-out OUT/schema-embed.json \
        [--mapping SRC/mapping.json --mapping-out OUT/mapping-embed.json]

The schema's "version" field is set to --version and both files are written
as compact JSON. Output files are only rewritten when their content changes,
so make does not rebuild a provider needlessly.
"""

import argparse
import json
import os
import sys


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", required=True, help="provider version, without a leading v")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--schema-out", required=True)
    ap.add_argument("--mapping")
    ap.add_argument("--mapping-out")
    args = ap.parse_args(argv)

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    schema["version"] = args.version.lstrip("v")
    write_if_changed(args.schema_out, compact(schema))

    if args.mapping:
        if not args.mapping_out:
            ap.error("--mapping needs --mapping-out")
        with open(args.mapping, encoding="utf-8") as f:
            mapping = json.load(f)
        write_if_changed(args.mapping_out, compact(mapping))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
