/**
 * Ctrl-C and SIGTERM as a stop request: the first aborts the returned signal, with the reason a stopped trial is
 * recorded with (`timeout`, a scheduler or `kill` send SIGTERM; only Ctrl-C is the user at the keyboard); a second
 * means "now" and exits 130 at once. `release` removes the handlers.
 */
export function stopOnSignals(): { signal: AbortSignal; release(): void } {
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    stop.abort(signal === 'SIGINT' ? 'stopped by the user' : `stopped by ${signal}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
