"""Where a study ran: the one-line machine description the validation
scripts store beside their results (run_info.json, study.json)."""
import os
import platform


def machine():
    """CPU model, logical CPU count and host name, e.g.
    'AMD EPYC 7B13, 2 logical CPUs (host)'."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs ({platform.node()})"
