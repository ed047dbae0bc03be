/**
 * TIGER on Amazon 2014 Toys (or Sports): leave-one-out, full catalogue, every test user, test
 * metrics through `@genrec/eval`'s `evaluateRecommender` with the whole history excluded and not.
 *
 *   flock /tmp/genrec-bench.lock npx tsx --conditions=@genrec/source bench/toys.ts [options]
 *
 * --data toys|sports            data set (Sports: item content = TF-IDF over attribute ids, not the paper's input)
 * --vectors sasrec|text|collaborative|text+sasrec|…   item vectors ('sasrec': a SASRec pre-trained
 *                               here first, timed apart and cached in /tmp/genrec-tiger-cache)
 * --config '{"layers": 2}'      further fitTiger options (JSON)
 * --paper                       TIGER's paper configuration (encoder-decoder 4+4, d128, 6x64, FFN 1024)
 * --budget-min 30               abort training after this many minutes from the start of fitTiger
 *                               (semantic ids + training + validation); the best epoch is kept
 * --sample 2000                 validation users per epoch (fixed seeded sample)
 * --patience 5                  early-stopping patience (epochs without a better validation NDCG@10)
 * --seed 42, --no-test, --invalid-users 2000 (unconstrained invalid-id rate on that many test users)
 * --save DIR                    save the model folder
 * --validation-all              also evaluate the kept model on every validation user (history excluded)
 * --sasrec-folder DIR           take the 'sasrec' vectors from a saved SASRec model folder instead of
 *                               training one (e.g. model-setrec's bench/pretrain-sasrec.ts output:
 *                               the same fitSasrec defaults, split and seed give the same model)
 *
 * Prints one line per epoch on stderr (with the load average) and one JSON line on stdout.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { GenrecError, createMatrix, datasetFingerprint, sharedPath, type FitData, type Matrix } from '@genrec/core';
import { attributeCatalog, leaveOneOutSplit, readItemAttributes, readItemCatalog, readSequenceFile } from '@genrec/data';
import { evaluateRecommender } from '@genrec/eval';
import { SASREC_DEFAULTS, fitSasrec, loadSasrec } from '@genrec/model-sasrec';
import { TIGER_PAPER_OPTIONS, fitTiger, type FitTigerOptions, type ItemVectorSource } from '../src/index.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const load = (): string => loadavg().map((v) => v.toFixed(1)).join(' ');

const which = option('data', 'toys');
const seed = Number(option('seed', '42'));
const vectorNames = option('vectors', 'sasrec').split('+') as (ItemVectorSource | 'sasrec')[];
const extra = JSON.parse(option('config', '{}')) as FitTigerOptions;
const budgetMinutes = Number(option('budget-min', '30'));
const sample = Number(option('sample', '2000'));
const patience = Number(option('patience', '5'));
const invalidUsers = Number(option('invalid-users', '2000'));
const files = {
  toys: { sequences: sharedPath('data', 'amazon2014-toys', 'Toys_and_Games.txt'), items: sharedPath('data', 'amazon2014-toys', 'items.jsonl') },
  sports: { sequences: sharedPath('data', 'amazon2014-sports', 'Sports_and_Outdoors.txt'), items: sharedPath('data', 'amazon2014-sports', 'items.tsv') },
}[which === 'sports' ? 'sports' : 'toys'];
if (files.sequences === undefined) {
  log(`skipped: ../shared/data has no ${which}`);
  process.exit(0);
}

const dataset = await readSequenceFile(files.sequences);
const split = leaveOneOutSplit(dataset);
log(`${which}: users=${dataset.userCount} items=${dataset.itemCount} test users=${split.test.size} load ${load()}`);
let catalog: FitData['catalog'];
if (files.items !== undefined) {
  catalog = which === 'sports' ? attributeCatalog(await readItemAttributes(files.items)) : await readItemCatalog(files.items);
}

// SASRec item embeddings (pre-training timed apart, cached)
const folder = option('sasrec-folder', '');
if (flag('sasrec-folder') && (folder === '' || folder.startsWith('--') || !vectorNames.includes('sasrec'))) {
  throw new GenrecError('INVALID_OPTION', '--sasrec-folder DIR needs a folder and --vectors naming sasrec');
}
let sasrecSeconds = 0;
let sasrecSource = 'none';
let given: Matrix | undefined;
if (vectorNames.includes('sasrec')) {
  const cacheDir = '/tmp/genrec-tiger-cache';
  const cache = `${cacheDir}/sasrec-${which}-${seed}.f32`;
  const d = 64;
  if (folder !== '') {
    const sasrec = await loadSasrec(folder, { threads: 2 });
    // the folder must hold the SASRec this run would train: this split, this seed, the defaults' epochs
    const description = sasrec.describe();
    const trained = { fingerprint: description.dataFingerprint, seed: description.hyperParameters['seed'], epochs: description.hyperParameters['epochs'] };
    const expected = { fingerprint: datasetFingerprint(split.train), seed, epochs: SASREC_DEFAULTS.epochs };
    if (JSON.stringify(trained) !== JSON.stringify(expected)) {
      throw new GenrecError('INVALID_INPUT', `--sasrec-folder ${folder} holds another SASRec (${JSON.stringify(trained)}) than this run trains (${JSON.stringify(expected)})`);
    }
    given = sasrec.itemEmbeddings();
    await sasrec.dispose();
    sasrecSource = `folder ${folder} (data ${trained.fingerprint}, seed ${seed})`;
    log(`SASRec embeddings from the model folder ${folder}`);
  } else if (existsSync(cache)) {
    const bytes = readFileSync(cache);
    given = createMatrix(dataset.itemCount, d, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
    sasrecSource = `cache ${cache}`;
    log(`SASRec embeddings from ${cache}`);
  } else {
    const started = performance.now();
    const sasrec = await fitSasrec({ train: split.train }, { seed, threads: 2, earlyStopping: false });
    sasrecSeconds = (performance.now() - started) / 1000;
    given = sasrec.itemEmbeddings();
    await sasrec.dispose();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cache, new Uint8Array(given.data.buffer, given.data.byteOffset, given.data.byteLength));
    sasrecSource = 'trained';
    log(`SASRec pre-trained in ${sasrecSeconds.toFixed(1)} s (load ${load()})`);
  }
}
const sources = vectorNames.map((name) => (name === 'sasrec' ? 'given' : name)) as ItemVectorSource[];
const options: FitTigerOptions = {
  ...(flag('paper') ? TIGER_PAPER_OPTIONS : {}),
  itemVectors: sources,
  seed,
  threads: 2,
  earlyStopping: { metric: 'ndcg@10', patience, sampleUsers: sample },
  ...extra,
};
const controller = new AbortController();
const fitStarted = performance.now();
const timer = setTimeout(() => controller.abort(), budgetMinutes * 60_000);
let firstEpochAt = 0;
const model = await fitTiger({ train: split.train, validation: split.validation, ...(catalog ? { catalog } : {}), ...(given ? { itemVectors: given } : {}) }, {
  ...options,
  signal: controller.signal,
  onProgress: (event) => {
    if (event.type === 'fit-start') {
      firstEpochAt = performance.now();
      log(`fit-start: ${event.stepsPerEpoch} steps/epoch, semantic ids after ${((firstEpochAt - fitStarted) / 1000).toFixed(1)} s, load ${load()}`);
    }
    if (event.type === 'epoch-end') {
      const rss = process.memoryUsage().rss / 2 ** 20;
      log(
        `epoch ${event.epoch}/${event.epochs} loss ${event.loss.toFixed(4)} val ${JSON.stringify(event.validation ?? {})} best ${event.best} lr ${event.learningRate?.toExponential(2)} ` +
          `${((performance.now() - fitStarted) / 1000).toFixed(0)} s rss ${rss.toFixed(0)} MiB load ${load()}`,
      );
    }
  },
});
clearTimeout(timer);
const fitSeconds = (performance.now() - fitStarted) / 1000;
log(`fit: ${fitSeconds.toFixed(1)} s, kept epoch ${model.training.epoch} of ${model.training.epochsTrained} (${model.training.stoppedBy}), codes ${JSON.stringify(model.training.codes)}`);
const saveTo = option('save', '');
if (saveTo) await model.save(saveTo);

// --validation-all: the kept model on every validation user (history excluded) — screens compare
// configurations on this (about 3x less noise than the early-stopping sample)
let validationAll: Record<string, number> | undefined;
if (flag('validation-all')) {
  const result = await evaluateRecommender(model, split.validation, { ks: [10, 20], excludeHistory: true, keepPerUser: false });
  validationAll = Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(6)]));
  log(`validation, all ${split.validation.size} users, history excluded: R@10 ${validationAll['recall@10']} N@10 ${validationAll['ndcg@10']} (load ${load()})`);
}
const test: Record<string, Record<string, number>> = {};
let testSeconds = 0;
if (!flag('no-test')) {
  const started = performance.now();
  for (const [name, excludeHistory] of [['history_excluded', true], ['history_not_excluded', false]] as const) {
    const result = await evaluateRecommender(model, split.test, { ks: [10, 20], excludeHistory, keepPerUser: false });
    test[name] = {
      ...Object.fromEntries(['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20'].map((m) => [m, +result.metrics[m]!.toFixed(6)])),
      short_list_rate_at_10: result.decoding?.shortListRate['@10'] ?? Number.NaN,
    };
    log(`test, ${name.replace(/_/g, ' ')}: R@10 ${test[name]!['recall@10']} N@10 ${test[name]!['ndcg@10']} (load ${load()})`);
  }
  testSeconds = (performance.now() - started) / 1000;
}
let invalid: Awaited<ReturnType<typeof model.unconstrainedInvalidRate>> | undefined;
if (invalidUsers > 0) {
  const users = Math.min(invalidUsers, split.test.size);
  const end = split.test.historyOffsets[users]!;
  invalid = await model.unconstrainedInvalidRate({ offsets: split.test.historyOffsets.slice(0, users + 1), items: split.test.historyItems.slice(0, end) }, { k: 10 });
  log(`unconstrained beam: invalid-id rate ${invalid.invalidRate.toFixed(4)} of top-10 entries, ${invalid.usersWithInvalid.toFixed(4)} of users`);
}
await model.dispose();
console.log(
  JSON.stringify({
    model: '@genrec/model-tiger',
    data: which,
    config: model.describe().hyperParameters,
    epochs_trained: model.training.epochsTrained,
    kept_epoch: model.training.epoch,
    stopped_by: model.training.stoppedBy,
    validation: model.training.validation,
    validation_all_users: validationAll,
    losses: model.training.losses.map((v) => +v.toFixed(4)),
    codes: model.training.codes,
    sasrec_pretrain_s: +sasrecSeconds.toFixed(1),
    sasrec_source: sasrecSource,
    semantic_ids_s: +((firstEpochAt - fitStarted) / 1000).toFixed(1),
    fit_wall_s: +fitSeconds.toFixed(1),
    test_decode_s: +testSeconds.toFixed(1),
    test,
    unconstrained: invalid,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    load_at_end: load(),
  }),
);
