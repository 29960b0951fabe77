"""What installing torch from PyPI puts on a Linux machine: torch itself and its CUDA dependencies.

    python benchmarks/bench_install_size.py                  # print the table
    python benchmarks/bench_install_size.py --write-readme   # also rewrite the README's block
    python benchmarks/bench_install_size.py --cpu-wheel torch-2.13.0+cpu-...whl   # and a CPU build's wheel

Reads the installed distributions (what ``pip show -f`` lists: every file of a
distribution, summed) for torch and every requirement it pulls in, directly or through
another, whose name marks it as CUDA's (``nvidia-*``, ``cuda-*``) or as the GPU compiler
``triton``. It measures the install that is here; it downloads nothing. The CPU build
(``pip install torch --index-url https://download.pytorch.org/whl/cpu``) cannot be
measured where that index cannot be reached, unless a CPU wheel is at hand (``--cpu-wheel``):
then the table adds that wheel's download size, the bytes its files take once installed (the
wheel's own file list, uncompressed) and the CUDA distributions it requires (its METADATA's
``Requires-Dist``), read from the file without installing it.
"""
from __future__ import annotations

import argparse
import email
import os
import re
import sys
import zipfile
from importlib import metadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readme_block import publish  # noqa: E402  (found through the path above)

CUDA_NAMES = re.compile(r"^(nvidia-|cuda-|triton$)", re.I)


def installed_size(dist: metadata.Distribution) -> int:
    """Bytes of every file the distribution's RECORD lists (as ``pip show -f`` does)."""
    total = 0
    for file in dist.files or []:
        try:
            total += os.path.getsize(file.locate())
        except OSError:  # listed but gone (a .pyc not compiled, say)
            pass
    return total


def cuda_dependencies(root: str) -> dict[str, metadata.Distribution]:
    """Every installed distribution ``root`` requires on this machine, at any depth and through
    the extras its requirements name (torch asks for ``cuda-toolkit[cublas,cudart,...]``),
    whose name is CUDA's."""
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    seen, todo = set(), [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if name != root and CUDA_NAMES.match(name):
            found[name] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""}))
            if wanted:
                todo.append((requirement.name.lower(), frozenset(requirement.extras)))
    return found


def wheel_figures(path: str) -> tuple[int, int, list[str]]:
    """(download bytes, installed bytes, CUDA requirements) of a wheel file, read without installing it."""
    with zipfile.ZipFile(path) as wheel:
        installed = sum(info.file_size for info in wheel.infolist())
        meta_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(wheel.read(meta_name))
    names = {re.split(r"[ ;<>=!~(\[]", r, maxsplit=1)[0] for r in meta.get_all("Requires-Dist") or []}
    cuda = sorted(name for name in names if CUDA_NAMES.match(name))
    return os.path.getsize(path), installed, cuda


def torch_cuda() -> str:
    import torch

    return f"CUDA {torch.version.cuda}" if torch.version.cuda else "none (a CPU build)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-readme", action="store_true",
                        help="also rewrite the README's block between <!-- bench:install-size --> markers")
    parser.add_argument("--cpu-wheel", metavar="PATH", help="also measure this CPU build's wheel of torch")
    args = parser.parse_args(argv)
    torch = metadata.distribution("torch")
    cuda = cuda_dependencies("torch")
    cuda_bytes = sum(installed_size(d) for d in cuda.values())
    gb = lambda n: f"{n / 1e9:.2f} GB"  # noqa: E731
    rows = [
        ("torch installed here (version; the CUDA it was built for)", f"{torch.version}; {torch_cuda()}"),
        ("torch's own files", gb(installed_size(torch))),
        ("CUDA and triton distributions torch pulled in", f"{len(cuda)}: {', '.join(sorted(cuda))}"),
        ("their files together", gb(cuda_bytes)),
        ("torch with them", gb(installed_size(torch) + cuda_bytes)),
    ]
    if args.cpu_wheel:
        download, installed, wheel_cuda = wheel_figures(args.cpu_wheel)
        name = os.path.basename(args.cpu_wheel)
        rows += [
            (f"a CPU build's wheel ({name}): download", gb(download)),
            ("its files once installed", gb(installed)),
            ("CUDA and triton distributions it requires", ", ".join(wheel_cuda) or "none"),
        ]
    command = "python benchmarks/bench_install_size.py --write-readme" + (
        f" --cpu-wheel {args.cpu_wheel}" if args.cpu_wheel else "")
    publish("install-size", rows, command, args.write_readme,
            where="the installed distributions' files, as `pip show -f` lists them; ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
