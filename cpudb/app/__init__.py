"""Use cases: a request in, a result record out, doing the loading (database, files,
this machine). The commands (argparse -> one use case -> one renderer -> exit status)
and the TUI call these; the decisions below them are pure (cpudb.advise, cpudb.decide,
cpudb.baseline, cpudb.pools, ...). Nothing here prints or imports cpudb.commands, tui or
cpudb.render (import-linter checks: .importlinter)."""
