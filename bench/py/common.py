"""Shared by the Python-pipeline scripts of bench/: what a user's script would skip."""

import os
import time

SKIP_SUFFIXES = ("/adam_m", "/adam_v")
SKIP_NAMES = ("global_step",)


def is_optimizer_state(name):
    """Optimizer slots and the step counter: dropped, as ckpt convert drops them by default."""
    return name.endswith(SKIP_SUFFIXES) or name in SKIP_NAMES


def quiet_tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def report(start):
    """One line the harness reads: the pipeline's seconds after its imports."""
    print("pipeline_seconds=%.4f" % (time.perf_counter() - start), flush=True)
