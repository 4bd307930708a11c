"""The shipped data loads and the 7.2 table has what QEMU 7.2 has."""


def test_shipped_releases_load(db):
    versions = [v.version for v in db.versions()]
    assert "7.2.0" in versions and "1.1.0" in versions
    rel = db.release("7.2.0")
    assert rel.version == "7.2.0"
    assert len(rel.cpus) == 129
    assert "pdpe1gb" in rel.cpu("Skylake-Server-v1").features
    assert "pdpe1gb" not in rel.cpu("Haswell-v4").features
