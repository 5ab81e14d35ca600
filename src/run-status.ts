/**
 * What a run can be: `running` while it trains, then how it ended. The CLI's --status choices, the dashboard's filter
 * and the store's type come from this list. The CHECK constraint on runs.status (migrations.ts) names the same values
 * in SQL, and a released migration is never edited: test/run-statuses-match-the-database.test.ts fails when they part.
 */
export const RUN_STATUSES = ['running', 'completed', 'failed', 'diverged', 'interrupted'] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

/** How a trial ended. */
export type FinalStatus = Exclude<RunStatus, 'running'>;
