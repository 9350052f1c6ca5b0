"""The floor: the least work that produces rollgen's output — a plain Python script that writes the
same documents, one file each with the same header, using PyYAML's C dumper. Nothing is validated,
planned or synthesized; the documents are given.

    python benchmarks/floor.py DOCUMENTS.json OUTDIR
"""

import json
import os
import sys

import yaml


def main(documents: str, outdir: str) -> None:
    with open(documents, encoding="utf-8") as fh:
        files = json.load(fh)
    for rel, header, doc in files:
        path = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            out.write(header + yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False,
                                         allow_unicode=True, width=4096))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
