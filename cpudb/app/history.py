"""The history use case: a CPU name's or a feature's timeline over every release."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from collections.abc import Sequence

    from cpudb.history import History
    from cpudb.model import Release
    from cpudb.query import Db


class HistoryRequest(Record):
    name: str | None = None  # a CPU name (or, with feature, the model to limit it to)
    feature: str | None = None  # a feature in any spelling, or a CPUID location
    model: str | None = None  # with feature: one CPU name, or a model and its names
    downstream: bool = False  # also downstream releases, each against its upstream base
    db: str | None = None


def history_case(req: HistoryRequest, db: Db | None = None) -> History:
    from cpudb import history
    from cpudb.app.inputs import connect
    from cpudb.errors import CpudbError, NotFound

    if req.model and req.name and req.model != req.name:
        raise CpudbError(
            f"two CPU names given: {req.name} and --model {req.model}",
            hint="cpudb history --feature F --model NAME",
        )
    if req.model and not req.feature:
        raise CpudbError(
            "--model goes with --feature",
            hint=f"cpudb history {req.model}, or cpudb history --feature F --model {req.model}",
        )
    if not req.name and not req.feature:
        raise CpudbError(
            "history of what? give a CPU name or --feature F",
            hint="cpudb history Skylake-Server, cpudb history --feature hle",
        )
    releases = connect(db, req.db).releases()
    if not releases:
        raise NotFound("the database has no releases", hint="cpudb db rebuild")
    if req.feature:
        location = resolve_feature(releases, req.feature)
        return history.feature_history(
            releases, location, model=req.model or req.name, downstream=req.downstream
        )
    assert req.name is not None
    return history.cpu_history(releases, req.name, downstream=req.downstream)


def resolve_feature(releases: Sequence[Release], text: str) -> str:
    """A feature name in any spelling (newest release first) -> comparable location id."""
    from cpudb.errors import NotFound
    from cpudb.locations import canonical_location, subleafed_leaves
    from cpudb.names import FeatureNames

    first: NotFound | None = None
    for rel in reversed(releases):
        try:
            f = FeatureNames(rel).lookup(text)
        except NotFound as e:
            first = first or e
            continue
        return canonical_location(f.location, subleafed_leaves(releases))
    assert first is not None
    raise NotFound(f"no release in the database has a feature {text!r}", hint=first.hint)
