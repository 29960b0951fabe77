"""benchmarks/bench_install_size.py reads a wheel's sizes and CUDA requirements without
installing it (the CPU build's figures in the README's install-size block)."""
import importlib.util
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_install_size", ROOT / "benchmarks" / "bench_install_size.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _wheel(path: Path, requires: list[str]) -> Path:
    meta = "Metadata-Version: 2.1\nName: torch\nVersion: 9.9\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("torch/lib.so", b"\0" * 10_000)
        wheel.writestr("torch-9.9.dist-info/METADATA", meta)
    return path


def test_a_wheel_is_measured_from_its_file(tmp_path):
    cpu = _wheel(tmp_path / "cpu.whl", ["sympy>=1.13", "filelock"])
    download, installed, cuda = bench.wheel_figures(str(cpu))
    assert download == cpu.stat().st_size and installed > 10_000 > download and cuda == []
    gpu = _wheel(tmp_path / "gpu.whl", ['nvidia-cublas==13.0; platform_system == "Linux"', "triton==3.5", "sympy"])
    assert bench.wheel_figures(str(gpu))[2] == ["nvidia-cublas", "triton"]
