"""`python -m cchc.checks.reader_process IN OUT`: read files in a process of their own (cchc.checks.isolate).

IN is a pickle of ((archive path, file name) pairs, the reference's pickle file); OUT receives the
reader's results (cchc.checks.pool.read_and_check), written whole or not at all: a reader that dies
leaves no OUT, which is how the caller knows.
"""

from __future__ import annotations

import os
import pickle
import sys

from cchc.checks.pool import init_reader, read_and_check


def main(src: str, dst: str) -> None:

    with open(src, "rb") as fh:
        pairs, ref_file = pickle.load(fh)
    init_reader(ref_file)
    results = read_and_check(pairs)
    tmp = dst + ".part"
    with open(tmp, "wb") as fh:
        pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
