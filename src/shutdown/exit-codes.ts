/** How a process ends (docs/operations.md lists them for operators and orchestrators). */
export const ExitCode = {
  /** Stopped cleanly: every active job and request finished before the shutdown deadline. */
  Ok: 0,
  /**
   * Start-up failed, shutdown failed, or the last-resort backstop fired (the shutdown was still
   * running SHUTDOWN_TIMEOUT + SHUTDOWN_BACKSTOP_MARGIN_MS after the signal).
   */
  Failed: 1,
  /**
   * EX_TEMPFAIL: stopped at the shutdown deadline with work interrupted: jobs still running were
   * handed back to their queue (another worker runs them) and/or requests still running were cut.
   * Everything else closed cleanly (counts flushed, connections closed).
   */
  DeadlineReached: 75,
  /** EX_CONFIG: the environment is invalid; nothing started. */
  Config: 78,
} as const;

/** How long after the deadline the hard exit fires if the orderly shutdown is stuck. */
export const SHUTDOWN_BACKSTOP_MARGIN_MS = 5_000;
