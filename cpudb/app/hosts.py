"""The stored-hosts use cases (`cpudb host add/rm/list`): hosts kept by name in the user
data folder (cpudb.hoststore), so `--host NAME` works anywhere a host spec does."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from pathlib import Path

    from cpudb.query import Db

# names a host spec reads otherwise: a stored host by one of them could never be asked for
SPEC_WORDS = ("this-host", "this-cpu", "kvm", "qmp")


class StoredHost(Record):
    name: str
    added: str  # when it was stored (ISO 8601)
    source: str  # what it was read from
    vendor: str | None
    family: int | None
    model: int | None
    stepping: int | None
    brand: str | None


class Added(Record):
    name: str
    source: str
    brand: str
    vendor: str
    file: Path


class AddRequest(Record):
    name: str
    spec: str  # what `cpudb host` reads: a FILE, -, this-host, qmp, a catalogued CPU
    binary: str | None = None  # the QEMU binary to ask for qmp
    reserved: tuple[str, ...] = ()  # the command's own words (add, list, ...)
    db: str | None = None


def add_host(req: AddRequest, db: Db | None = None) -> Added:
    """Read the host the spec names and store it by name (replacing one of that name)."""
    from cpudb import hoststore
    from cpudb.app.host import read_host
    from cpudb.app.inputs import connect

    name = check_name(req.name, req.reserved)
    cpu = read_host(req.spec, req.binary, connect(db, req.db))
    path = hoststore.save(name, cpu.source, cpu.to_json())
    return Added(name, cpu.source, cpu.brand, cpu.vendor, path)


def check_name(name: str, reserved: tuple[str, ...] = ()) -> str:
    """`name` if a host may be stored by it, else CpudbError (exit 2) with the rule."""
    from cpudb import hoststore
    from cpudb.errors import CpudbError

    if not hoststore.NAME.fullmatch(name) or name in (*reserved, *SPEC_WORDS):
        raise CpudbError(
            f"bad host name {name!r}",
            hint="letters, digits and . _ - + @, up to 64, not add/list/rm",
        )
    return name


def remove_host(name: str) -> None:
    from cpudb import hoststore
    from cpudb.errors import NotFound

    if not hoststore.remove(name):
        raise NotFound(f"no stored host named {name!r}", hint="`cpudb host list`")


def stored_hosts() -> tuple[StoredHost, ...]:
    from cpudb import hoststore

    return tuple(
        StoredHost(
            h["name"],
            h["added"],
            h["source"],
            h["data"].get("vendor"),
            h["data"].get("family"),
            h["data"].get("model"),
            h["data"].get("stepping"),
            h["data"].get("brand"),
        )
        for h in hoststore.all_hosts()
    )
