"""The Textual application (imported only by `cpudb tui`)."""
