"""The decision core: the one place that knows what a guest gets and where it runs.

    kvm        bit-level rules of KVM and QEMU on top of a host's CPUID
    offer      what an accelerator on a host (or TCG) can give a guest
    guest      the features a CPU name gives a guest under an accelerator
    deps       what a flag needs with it (QEMU's feature_dependencies[], Linux's
               cpuid-deps, features that exist only in long mode)
    plan       the flags to add to a CPU name for the needs, or why it cannot work
    rank       one ranking, with named policies (portable, closest to the offers)
    core       every CPU name of a release planned and ranked: what advise, baseline,
               host, diagnose and the TUI all ask

Pure: release data, offers and needs in, records with their reasons out. No I/O.
"""
