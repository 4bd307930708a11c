"""Nova's CPU traits: which placement trait (`HW_CPU_X86_*`) the libvirt driver reports
for which libvirt CPU feature (`CPU_TRAITS_MAPPING` in nova/virt/libvirt/utils.py), so
`--format nova` can say which traits a flavor should require for the needs.

    pip download --no-deps nova      # nova-X.Y.Z-py3-none-any.whl
    python -m cpudb.scrapers.nova_traits nova-34.0.0-py3-none-any.whl \
        --out data/nova-cpu-traits.json

Pure parsing (ast, nothing of nova is run or imported): {"source", "traits": {libvirt
feature: [trait, ...]}}.
"""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path
from typing import Any

from cpudb.errors import ParseError, SourceError

MODULE = "nova/virt/libvirt/utils.py"


def parse(text: str, file: str = MODULE) -> dict[str, list[str]]:
    try:
        tree = ast.parse(text, file)
    except SyntaxError as e:
        raise ParseError(f"not Python ({e.msg})", file=file, line=e.lineno) from None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "CPU_TRAITS_MAPPING" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            out: dict[str, list[str]] = {}
            for k, v in zip(node.value.keys, node.value.values, strict=True):
                if not isinstance(k, ast.Constant) or not isinstance(k.value, str):
                    raise ParseError("CPU_TRAITS_MAPPING key is not a string", file=file,
                                     line=getattr(k, "lineno", None))  # fmt: skip
                vals = v.elts if isinstance(v, ast.Tuple) else [v]
                names = [x.attr for x in vals if isinstance(x, ast.Attribute)]
                if not names or not all(n.startswith("HW_CPU_") for n in names):
                    raise ParseError(f"CPU_TRAITS_MAPPING[{k.value!r}] is no os_traits name",
                                     file=file, line=v.lineno)  # fmt: skip
                out[k.value] = names
            return dict(sorted(out.items()))
    raise ParseError("no CPU_TRAITS_MAPPING = {...}", file=file, hint=f"give nova's {MODULE}")


def scrape(source: str) -> dict[str, Any]:
    p = Path(source)
    if not p.is_file():
        raise SourceError(f"{p}: no such file", hint="pip download --no-deps nova")
    if p.suffix == ".whl":
        with zipfile.ZipFile(p) as z:
            text = z.read(MODULE).decode("utf-8")
        m = re.match(r"nova-([\d.]+)-", p.name)
        label = f"nova {m.group(1) if m else '?'} ({p.name}): {MODULE}"
    else:
        text = p.read_text(encoding="utf-8")
        label = f"{p}"
    return {"source": f"{label} CPU_TRAITS_MAPPING", "traits": parse(text, str(p))}


def main(argv: list[str] | None = None) -> int:
    from .data_cli import run

    return run(
        scrape,
        prog="python -m cpudb.scrapers.nova_traits",
        description="Nova's libvirt feature -> placement trait map (data/nova-cpu-traits.json).",
        source_help="nova's wheel (pip download --no-deps nova) or its utils.py",
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
