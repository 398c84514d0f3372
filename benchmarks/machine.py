"""The machine a benchmark ran on, recorded beside every figure: machines of one class come
with CPUs up to 2.5x apart, so a speed means nothing without its CPU."""
import os
import platform
import subprocess


def cpu() -> dict:
    """CPU model, cores, MHz and the SIMD level (from lscpu when present)."""
    info = {"model": platform.processor() or "unknown", "cores": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return info
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = fields.get("Flags", "").split()
    info.update(model=fields.get("Model name", info["model"]),
                mhz=fields.get("CPU max MHz") or fields.get("CPU MHz"),
                simd=next((f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags), None))
    return info


def describe() -> str:
    c = cpu()
    return f"{c['model']}, {c['cores']} cores, {c.get('simd') or 'no AVX'}"
