"""What the harnesses print about the machine they measured on (docs/performance.md quotes it)."""

import os
import platform


def machine():
    """`N cores, CPU model, OS release`, from /proc/cpuinfo where there is one."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}"
