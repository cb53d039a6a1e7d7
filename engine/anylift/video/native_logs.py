"""Keep MediaPipe's native start-up chatter out of the user's terminal.

MediaPipe's C++ graph (absl/glog) and TensorFlow Lite write lines such as ``INFO: Created
TensorFlow Lite XNNPACK delegate for CPU``, ``WARNING: All log messages before
absl::InitializeLog() ...`` and ``W0000 ... inference_feedback_manager.cc ...`` straight to file
descriptor 2 when a model is created and first run; environment variables do not reach them
once the library is loaded. :func:`quiet_native_logs` redirects descriptor 2 to a temporary
file around those calls and writes back every line that is not such noise, so real errors
still show. protobuf's ``SymbolDatabase.GetPrototype() is deprecated`` warning is filtered too.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator

NOISE = re.compile(
    r"^(?:[IW]\d{4} .*|INFO: Created TensorFlow Lite .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\).*"
    r"|.*inference_feedback_manager\.cc.*|.*gl_context.*|.*Feedback manager requires a model.*)$"
)


def filter_noise(text: str) -> str:
    """``text`` without MediaPipe / TensorFlow Lite start-up lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.match(line.rstrip("\n")))


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Run the body with descriptor 2 captured; print back what is not start-up noise."""
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated")
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    fd = 2  # the native libraries write to descriptor 2 whatever sys.stderr is
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            rest = filter_noise(tmp.read().decode("utf-8", "replace"))
            if rest:
                os.write(fd, rest.encode("utf-8"))
