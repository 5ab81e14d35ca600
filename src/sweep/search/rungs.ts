/**
 * ASHA's rungs: the epochs at which a trial is scored against the others, minEpochs × reduction^k below maxEpochs,
 * then maxEpochs itself, the top (as Ray Tune's milestones: 1, 3, 9 then 10 for 1, η = 3, 10).
 */
export function rungEpochs(minEpochs: number, maxEpochs: number, reduction: number): number[] {
  const rungs: number[] = [];
  for (let epoch = minEpochs; epoch < maxEpochs; epoch = Math.max(epoch + 1, Math.round(epoch * reduction))) rungs.push(epoch);
  rungs.push(maxEpochs);
  return rungs;
}

/**
 * The epochs successive halving trains `configs` configs for, floor(n/η) of each rung going on to the next, and at
 * least one (the best goes on to the top, see AshaSearch). The asynchronous version trains a few more: a config
 * promoted early keeps its promotion when better ones arrive.
 */
export function halvingEpochs(configs: number, rungs: readonly number[], reduction: number): number {
  let epochs = 0;
  let reaching = configs;
  rungs.forEach((epoch, k) => {
    epochs += reaching * (epoch - (k === 0 ? 0 : rungs[k - 1]!));
    reaching = Math.max(1, Math.floor(reaching / reduction));
  });
  return epochs;
}

/** The trainings (trial processes) successive halving starts: every config once per rung it reaches. */
export function halvingTrainings(configs: number, rungs: number, reduction: number): number {
  let trainings = 0;
  for (let reaching = configs, k = 0; k < rungs; k++, reaching = Math.max(1, Math.floor(reaching / reduction))) trainings += reaching;
  return trainings;
}

/** What an ASHA search over `configs` configs trains, against every config to the end: for sweep and plan alike. */
export function ashaPlanLine(file: string, configs: number, rungs: readonly number[], reduction: number, metric: string): string {
  const epochs = halvingEpochs(configs, rungs, reduction);
  const full = configs * rungs[rungs.length - 1]!;
  return (
    `${file}: ASHA over ${configs} ${configs === 1 ? 'config' : 'configs'}, rungs at epochs ${rungs.join(', ')}, the best 1/${reduction} of each rung by ${metric} going on: ` +
    `about ${epochs.toLocaleString('en-US')} epochs in all (a few more where early promotions stand) against ${full.toLocaleString('en-US')} for every config to the end (${Math.round((100 * epochs) / full)}%)`
  );
}
