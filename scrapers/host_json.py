"""JSON that operators already have about host CPUs: `lscpu -J`, QMP captures
(`query-cpu-model-expansion` of `host`, `query-cpu-definitions` with unavailable-features,
e.g. from `virsh qemu-monitor-command`), and KubeVirt node objects (`kubectl get nodes
-o json`, their cpu-model / cpu-feature / host-model-cpu labels).

Pure: parsed JSON -> records. A file may hold several JSON documents one after another
(the answers of two QMP commands pasted together).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cpudb.errors import ParseError
from cpudb.record import Record

from .cpuinfo import Cpuinfo, CpuinfoCpu
from .libvirt_xml import VENDORS, LibvirtCpu

HINT = (
    "give `lscpu -J`, a QMP answer of query-cpu-model-expansion/query-cpu-definitions, "
    "or `kubectl get nodes -o json`"
)
KV = ".node.kubevirt.io"


def looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def documents(text: str, file: str) -> list[Any]:
    """Every JSON document in the text, one after another."""
    dec = json.JSONDecoder(object_hook=_slim_node)
    out: list[Any] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return out
        try:
            doc, i = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise ParseError(f"not JSON ({e.msg})", file=file, line=e.lineno, hint=HINT) from None
        except RecursionError:
            raise ParseError(
                "JSON nested too deep to be a host file", file=file, hint=HINT
            ) from None
        out.append(doc)


def _slim_node(d: dict[str, Any]) -> dict[str, Any]:
    """A Kubernetes Node keeps only its name and labels as it is parsed: its status
    (images, conditions) is most of `kubectl get nodes -o json` and says nothing here."""
    if d.get("kind") == "Node" and "metadata" in d:
        meta = d["metadata"] if isinstance(d["metadata"], dict) else {}
        labels = meta.get("labels")
        cpu = {k: v for k, v in labels.items() if KV + "/" in k} if isinstance(labels, dict) else {}
        return {"kind": "Node", "metadata": {"name": meta.get("name"), "labels": cpu}}
    return d


def kind_of(doc: Any) -> str:
    """ "lscpu" | "qmp" | "kubevirt" | "" (none of them)."""
    if isinstance(doc, dict):
        if "lscpu" in doc:
            return "lscpu"
        body = doc.get("return", doc)
        if isinstance(body, dict) and isinstance(body.get("model"), dict):
            return "qmp"
        if (
            isinstance(body, list)
            and body
            and all(isinstance(d, dict) and "name" in d for d in body)
        ):
            return "qmp"
        if doc.get("kind") in ("Node", "NodeList", "List") or "items" in doc:
            return "kubevirt"
    return ""


# ------------------------------------------------------------------ lscpu -J


def lscpu(doc: dict[str, Any], file: str) -> Cpuinfo:
    """`lscpu -J` (flat, or nested as util-linux 2.37+ prints it) -> CPU 0 as /proc/cpuinfo."""
    fields: dict[str, str] = {}

    def walk(items: Any) -> None:
        for it in items or ():
            if isinstance(it, dict):
                key = str(it.get("field", "")).rstrip(":").strip()
                fields.setdefault(key, str(it.get("data") or ""))
                walk(it.get("children"))

    walk(doc.get("lscpu"))
    if "Flags" not in fields:
        raise ParseError("lscpu -J without a Flags field", file=file, hint="run lscpu -J on x86")
    return Cpuinfo(
        (
            CpuinfoCpu(
                processor=0,
                vendor=fields.get("Vendor ID", ""),
                family=_int(fields.get("CPU family")),
                model=_int(fields.get("Model")),
                stepping=_int(fields.get("Stepping")),
                brand=fields.get("Model name", ""),
                flags=frozenset(fields["Flags"].split()),
                line=1,
            ),
        ),
        file,
    )


def _int(v: str | None) -> int:
    try:
        return int(str(v).strip(), 0)
    except ValueError:
        return 0


# ------------------------------------------------------------------ QMP


class QmpAnswers(Record):
    props: tuple[tuple[str, bool], ...] = ()  # the `host` expansion's boolean props
    values: tuple[tuple[str, str], ...] = ()  # its other props (vendor, family, model-id, ...)
    unavailable: tuple[tuple[str, tuple[str, ...]], ...] = ()  # model -> features
    expanded: str = ""  # the model that was expanded ("host", "max")


def answers(
    props: dict[str, Any],
    unavailable: Iterable[tuple[str, tuple[str, ...]]] = (),
    expanded: str = "host",
) -> QmpAnswers:
    """A `host` expansion's props (booleans are features, the rest identity: vendor,
    family, model-id, ...) and QEMU's unavailable-features per model."""
    return QmpAnswers(
        tuple(sorted((k, v) for k, v in props.items() if isinstance(v, bool))),
        tuple(sorted((k, str(v)) for k, v in props.items() if not isinstance(v, bool))),
        tuple(sorted(unavailable)),
        expanded,
    )


def qmp(docs: list[Any], file: str) -> QmpAnswers:
    props: dict[str, Any] = {}
    unavailable: dict[str, tuple[str, ...]] = {}
    expanded = ""
    for doc in docs:
        body = doc.get("return", doc) if isinstance(doc, dict) else doc
        if isinstance(body, dict) and isinstance(body.get("model"), dict):
            expanded = str(body["model"].get("name", ""))
            props.update(body["model"].get("props") or {})
        elif isinstance(body, list):
            for d in body:
                if isinstance(d, dict) and "name" in d and "unavailable-features" in d:
                    unavailable[str(d["name"])] = tuple(
                        dict.fromkeys(str(f) for f in d["unavailable-features"])
                    )
        else:
            raise ParseError("a JSON document that is no QMP answer", file=file, hint=HINT)
    if expanded and expanded not in ("host", "max"):
        raise ParseError(
            f"query-cpu-model-expansion of {expanded!r}, not of host",
            file=file,
            hint='expand {"name": "host"} under KVM: that is what the host offers',
        )
    return answers(props, unavailable.items(), expanded)


# ------------------------------------------------------------------ KubeVirt


def kubevirt_nodes(doc: dict[str, Any], file: str) -> list[tuple[str, LibvirtCpu]]:
    """Each node's CPU as KubeVirt's node-labeller labels it (from libvirt's
    domcapabilities on that node): host-model-cpu = the host-model's libvirt model,
    host-model-required-features and cpu-feature = features it requires, cpu-model =
    the models usable there (QEMU's verdict through libvirt)."""
    items = doc.get("items") if "items" in doc else [doc]
    out: list[tuple[str, LibvirtCpu]] = []
    for node in items or ():
        meta = node.get("metadata") or {}
        name = str(meta.get("name") or f"node{len(out) + 1}")
        labels: dict[str, str] = meta.get("labels") or {}
        model, vendor = "", ""
        feats: dict[str, bool] = {}
        usable: list[str] = []
        for k, v in labels.items():
            if str(v).lower() != "true":
                continue
            prefix, _, rest = k.partition("/")
            if not prefix.endswith(KV):
                continue
            what = prefix.removesuffix(KV)
            if what == "host-model-cpu":
                model = rest
            elif what in ("cpu-feature", "host-model-required-features"):
                feats[rest] = True
            elif what == "cpu-model":
                usable.append(rest)
            elif what == "cpu-vendor":
                vendor = VENDORS.get(rest, rest)
        if not model and not usable:
            continue  # not a KubeVirt node with a CPU labeller (a control-plane node)
        out.append(
            (
                name,
                LibvirtCpu(
                    what="KubeVirt node labels",
                    model=model,
                    vendor=vendor,
                    features=tuple(sorted(feats.items())),
                    verdicts=tuple((m, ()) for m in sorted(usable)),
                ),
            )
        )
    if not out:
        raise ParseError(
            "no node with KubeVirt CPU labels (cpu-model.node.kubevirt.io/...)",
            file=file,
            hint="kubectl get nodes -o json on a cluster running KubeVirt's node-labeller",
        )
    return out
