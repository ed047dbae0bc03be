import type { GenrecConfig } from '../config/config.js';
import type { CommandContext, CommandOutcome } from '../context.js';
import type { PairedComparison } from '../evaluation/run-metrics.js';
import { EXIT_CODES } from '../exit-codes.js';
import { alignRun, type AlignedSeed } from '../pipeline/align-run.js';
import { textTable } from '../tables.js';
import { runTable } from './train.js';

const fixed = (value: number | null | undefined, digits = 4): string => (value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
const signed = (value: number): string => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(4)}` : '-');
const pValue = (value: number): string => (!Number.isFinite(value) ? '-' : value >= 0.001 ? value.toFixed(4) : value.toExponential(1));

/**
 * The paired comparison of an align run as text: per seed, each table metric's un-aligned and
 * aligned means, the difference, the raw and Holm-adjusted p-values, and the verdict.
 *
 * @param comparison - `metrics.json`'s `comparison`
 * @returns the lines, without a final line break
 * @example
 * ```ts
 * console.log(comparisonTable(metrics.comparison));
 * ```
 */
export function comparisonTable(comparison: PairedComparison): string {
  const test = comparison.test === 'paired-t' ? 'paired t-test' : comparison.test === 'wilcoxon' ? 'Wilcoxon signed-rank test' : 'paired bootstrap';
  const blocks: string[] = [];
  for (const seed of comparison.seeds) {
    const metrics = Object.keys(seed.metrics);
    const title = `${comparison.system} vs ${comparison.reference} on the same ${seed.users} test users${comparison.seeds.length > 1 ? ` (seed ${seed.seed})` : ''}: ${test}, Holm over the ${metrics.length} table metrics, alpha ${comparison.alpha}`;
    const rows = metrics.map((metric) => {
      const cell = seed.metrics[metric]!;
      const verdict = cell.significant ? (cell.direction === 'higher' ? 'higher ▲†' : cell.direction === 'lower' ? 'lower ▼†' : '-') : 'no significant difference';
      return [metric, fixed(cell.reference), fixed(cell.system), signed(cell.difference), pValue(cell.pValue), pValue(cell.adjustedPValue), verdict];
    });
    blocks.push(`${title}\n${textTable([['metric', 'un-aligned', 'aligned', 'difference', 'p-value', 'Holm p', 'verdict'], ...rows], ['left', 'right', 'right', 'right', 'right', 'right', 'left'])}`);
  }
  return blocks.join('\n\n');
}

/**
 * The rounds of one aligned model as text: round 0 (un-aligned) and every round's pairs, steps,
 * TRL diagnostics (margins, accuracies), KL to the round's reference, false-negative share, and the
 * validation users' NDCG@K, Recall@K, coverage@K and popularity@K.
 *
 * @param aligned - one aligned model's rounds
 * @param several - whether the run aligned several seeds (names the seed)
 * @returns the lines, without a final line break
 * @example
 * ```ts
 * console.log(roundsTable(result.aligned[0]));
 * ```
 */
export function roundsTable(aligned: AlignedSeed, several = false): string {
  const k = aligned.options.diagnosticK;
  const header = ['round', 'pairs', 'steps', 'margins', 'accuracies', 'KL', 'false neg.', `val ndcg@${k}`, `val recall@${k}`, `coverage@${k}`, `popularity@${k}`];
  const validation = (values: Record<string, number> | null): string[] => [fixed(values?.[`ndcg@${k}`]), fixed(values?.[`recall@${k}`]), fixed(values?.[`coverage@${k}`], 3), fixed(values?.[`popularity@${k}`], 1)];
  const rows = [
    ['0', '-', '-', '-', '-', fixed(aligned.before.kl), '-', ...validation(aligned.before.validation)],
    ...aligned.rounds.map((round) => [
      String(round.round),
      String(round.pairs),
      `${round.steps}${round.supervisedSteps > 0 ? ` + ${round.supervisedSteps}` : ''}`,
      fixed(round.training['rewards/margins']),
      fixed(round.training['rewards/accuracies'], 3),
      fixed(round.after.kl),
      fixed(round.falseNegativeShare, 3),
      ...validation(round.after.validation),
    ]),
  ];
  const o = aligned.options;
  const title = `Alignment rounds${several ? ` (seed ${aligned.seed})` : ''}: ${o.source} pairs, ${o.loss} β ${o.beta}, λ ${o.supervisedWeight}, ${o.userShare} of the users per round, lr ${o.learningRate}, ${aligned.seconds.toFixed(1)} s (validation users; KL against each round's reference)`;
  return `${title}\n${textTable([header, ...rows])}`;
}

/**
 * `genrec align <model>`: preference alignment (`@genrec/dpo`) of a saved model folder, or of every
 * model of a run folder, in a new run folder: prints the quality table (the aligned and un-aligned
 * models beside the baselines), the paired comparison of aligned vs un-aligned on the test users,
 * and the rounds' diagnostics on the validation users.
 *
 * @param config - the resolved configuration (its `align` section)
 * @param context - the command's context
 * @param options - the model or run folder, `--run-id`
 * @returns exit 0, or 130 when Ctrl-C stopped it (the model aligned so far is in the run folder)
 * @example
 * ```ts
 * await runCli(['align', 'runs/sasrec-20261205-161859', '--loss', 'sdpo', '--beta', '1']); // what calls it
 * ```
 */
export async function alignCommand(config: GenrecConfig, context: CommandContext, options: { model: string; runId?: string }): Promise<CommandOutcome> {
  const { folder, metrics, aligned, interrupted } = await alignRun(config, context, options);
  if (interrupted || metrics === null) {
    return {
      exitCode: EXIT_CODES.interrupted,
      text: `interrupted; ${aligned.length > 0 ? 'the model aligned so far is' : 'nothing was aligned;'} in ${folder.path}\n`,
      json: { ok: false, command: 'align', status: 'interrupted', run: folder.path },
    };
  }
  const rounds = aligned.map((entry) => roundsTable(entry, aligned.length > 1)).join('\n\n');
  return {
    exitCode: EXIT_CODES.ok,
    text: `${runTable(metrics)}\n\n${comparisonTable(metrics.comparison!)}\n\n${rounds}\n\nProtocol: ${metrics.protocol}\nrun folder: ${folder.path}\n`,
    json: { ok: true, command: 'align', status: 'complete', run: folder.path, metrics, rounds: aligned },
  };
}
