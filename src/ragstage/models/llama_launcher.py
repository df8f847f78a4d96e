"""`python -m ragstage.models.llama_launcher ARGS`: llama_cpp.server in "safe CPU" mode.

llama.cpp built with `-march=native` on a CPU that advertises AMX uses AMX tile instructions
for prompt processing through its "extra buffer types". Some virtual machines advertise AMX
but trap its instructions (SIGILL on the first multi-token prompt). This launcher turns the
extra buffer types off (plain CPU kernels, a little slower at prefill) and then runs the
ordinary server with the same arguments. The embedded server falls back to it only after the
normal server died of SIGILL on its warm-up prompt.
"""

from __future__ import annotations

import runpy
import sys


def _disable_extra_buffer_types() -> None:
    import llama_cpp.llama_cpp as bindings

    default_params = bindings.llama_model_default_params

    def safe_params():  # type: ignore[no-untyped-def]
        params = default_params()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = safe_params


def main() -> None:
    _disable_extra_buffer_types()
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
