"""What installing torch from PyPI puts on a Linux machine: torch itself and its CUDA dependencies.

    python benchmarks/bench_install_size.py                  # print the table
    python benchmarks/bench_install_size.py --write-readme   # also rewrite the README's block

Reads the installed distributions (what ``pip show -f`` lists: every file of a
distribution, summed) for torch and every requirement it pulls in, directly or through
another, whose name marks it as CUDA's (``nvidia-*``, ``cuda-*``) or as the GPU compiler
``triton``. It measures the install that is here; it downloads nothing. The CPU build
(``pip install torch --index-url https://download.pytorch.org/whl/cpu``) cannot be
measured where that index cannot be reached: then it is not in the table.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
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


def torch_cuda() -> str:
    import torch

    return f"CUDA {torch.version.cuda}" if torch.version.cuda else "none (a CPU build)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-readme", action="store_true",
                        help="also rewrite the README's block between <!-- bench:install-size --> markers")
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
    publish("install-size", rows, "python benchmarks/bench_install_size.py --write-readme", args.write_readme,
            where="the installed distributions' files, as `pip show -f` lists them; ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
