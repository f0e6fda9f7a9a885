#!/usr/bin/env python3
"""tf.train.list_variables in a fresh process, printed as a listing (what ckpt inspect shows).

    python list_variables.py PREFIX
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.quiet_tf()
import tensorflow as tf  # noqa: E402


def main(prefix):
    start = time.perf_counter()
    total = 0
    lines = []
    for name, shape in tf.train.list_variables(prefix):
        n = 1
        for d in shape:
            n *= d
        total += n
        lines.append("%s %s %d" % (name, shape, n))
    lines.append("%d tensors, %d parameters" % (len(lines), total))
    print("\n".join(lines))
    common.report(start)


if __name__ == "__main__":
    main(sys.argv[1])
