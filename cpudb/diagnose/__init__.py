"""`cpudb diagnose`: from a KVM/QEMU failure log to the missing CPU feature and the fix.

    logparse   text -> events with line numbers (internal errors, register dumps,
               kvm/kvmmmu trace lines, QEMU and libvirt messages, the command line)
    registers  CR0/CR3/CR4/EFER decoded; which CR4/EFER bits need which CPUID feature
    paging     reserved bits of each paging level (SDM vol. 3 ch. 4, APM vol. 2 ch. 5)
    guestcpu   a `-cpu` argument resolved against one release
    fixes      CPU names with a feature, `-cpu X,feat=on`, enforce, the host caveat
    context    the release, -cpu, machine, accelerator and host a log is reasoned in
    reason     findings with evidence and an explanation chain (`diagnose_text`:
               parse and reason in one call)
    unexplained  notes when the log does not support a conclusion
    report     JSON and text

All pure; the command (`cpudb/commands/diagnose.py`) reads the file and the database.
The package imports none of them: import the module you need.
"""
