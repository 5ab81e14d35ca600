/**
 * The README's grid-against-ASHA figures, from the run databases of two real sweeps of experiments/search/:
 *   runner sweep experiments/search/cnn-family.yaml --db GRID_DB
 *   runner sweep experiments/search/cnn-family-asha.yaml --db ASHA_DB
 *   node dist/bench/search-comparison.js GRID_DB ASHA_DB
 * Each search's config is picked two ways: by validation accuracy after the last epoch it trained, as a user who
 * keeps the test set apart would, and by test accuracy, as `runner report` ranks. Prints figures; asserts nothing.
 */
import { RunStore, type Run } from '../src/store/run-store.js';
import { paramLabels } from '../src/ui/format.js';

const [gridDb, ashaDb] = process.argv.slice(2);
if (!gridDb || !ashaDb) {
  console.error('usage: node dist/bench/search-comparison.js GRID_DB ASHA_DB');
  process.exit(2);
}

interface Searched {
  runs: Run[];
  /** Validation accuracy after each run's last epoch, by run id. */
  finalValidation: Map<string, number>;
  epochs: number;
  epochSeconds: number;
  wallSeconds: number;
}

function read(path: string): Searched {
  const store = new RunStore(path, { readonly: true });
  try {
    const runs = store.runs({ status: 'completed' });
    const finalValidation = new Map<string, number>();
    let epochSeconds = 0;
    for (const run of runs) {
      const epochs = store.epochs(run.id);
      finalValidation.set(run.id, epochs.at(-1)!.valAccuracy);
      epochSeconds += epochs.reduce((sum, e) => sum + e.seconds, 0);
    }
    const starts = runs.map((r) => Date.parse(r.startedAt));
    const ends = runs.map((r) => Date.parse(r.finishedAt!));
    return { runs, finalValidation, epochs: runs.reduce((n, r) => n + r.epochsDone, 0), epochSeconds, wallSeconds: (Math.max(...ends) - Math.min(...starts)) / 1000 };
  } finally {
    store.close();
  }
}

const label = (run: Run) => paramLabels(run.params).join(' ');
const points = (fraction: number) => `${(100 * fraction).toFixed(2)}%`;
const byValidation = (s: Searched, runs: Run[]) => [...runs].sort((a, b) => s.finalValidation.get(b.id)! - s.finalValidation.get(a.id)!)[0]!;

const grid = read(gridDb);
const asha = read(ashaDb);
const gridPick = byValidation(grid, grid.runs);
const gridBest = [...grid.runs].sort((a, b) => b.testAccuracy! - a.testAccuracy!)[0]!;
const top = Math.max(...asha.runs.map((r) => r.epochsDone));
const ashaPick = byValidation(asha, asha.runs.filter((r) => r.epochsDone === top));
const twin = grid.runs.find((r) => label(r) === label(ashaPick));

console.log(`grid: ${grid.runs.length} configs, ${grid.epochs} epochs, ${Math.round(grid.epochSeconds)} s of epochs, ${Math.round(grid.wallSeconds)} s of wall time`);
console.log(`  picked by validation: ${label(gridPick)}: validation ${points(grid.finalValidation.get(gridPick.id)!)}, test ${points(gridPick.testAccuracy!)}`);
console.log(`  best test accuracy:   ${label(gridBest)}: test ${points(gridBest.testAccuracy!)}`);
console.log(`asha: ${asha.runs.length} configs, ${asha.epochs} epochs (${points(asha.epochs / grid.epochs)} of the grid's), ${Math.round(asha.epochSeconds)} s of epochs, ${Math.round(asha.wallSeconds)} s of wall time`);
const depths = [...new Set(asha.runs.map((r) => r.epochsDone))].sort((a, b) => a - b);
console.log(`  configs by epochs reached: ${depths.map((d) => `${asha.runs.filter((r) => r.epochsDone === d).length} at ${d}`).join(', ')}`);
console.log(`  picked by validation among those at epoch ${top}: ${label(ashaPick)}: validation ${points(asha.finalValidation.get(ashaPick.id)!)}, test ${points(ashaPick.testAccuracy!)}`);
console.log(`  behind the grid's pick by ${((gridPick.testAccuracy! - ashaPick.testAccuracy!) * 100).toFixed(2)} points of test accuracy, behind the grid's best test accuracy by ${((gridBest.testAccuracy! - ashaPick.testAccuracy!) * 100).toFixed(2)}`);
const ashaBest = [...asha.runs.filter((r) => r.epochsDone === top)].sort((a, b) => b.testAccuracy! - a.testAccuracy!)[0]!;
console.log(`  best test accuracy among those at epoch ${top}: ${label(ashaBest)}: test ${points(ashaBest.testAccuracy!)}, behind the grid's best by ${((gridBest.testAccuracy! - ashaBest.testAccuracy!) * 100).toFixed(2)} points`);
if (twin) console.log(`  the grid's run of the same config: test ${points(twin.testAccuracy!)} (${twin.testAccuracy === ashaPick.testAccuracy ? 'identical: continuing from checkpoints changed nothing' : 'differs'})`);
