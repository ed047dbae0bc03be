// Data folders with attribute ids (Sports: no titles, S3-Rec attribute files): the catalogue gets
// an `attributes` text field, and the ids embed it when there are no titles.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.js';
import { buildIds } from '../ids/build-ids.js';
import { loadData } from './load-data.js';

const root = mkdtempSync(join(tmpdir(), 'genrec-cli-attributes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 60 users over 12 items: item i is followed by i + 1 (mod 12), so every item occurs in training
const SEQUENCES = Array.from({ length: 60 }, (_, u) => `${u + 1} ${Array.from({ length: 6 }, (_, t) => 1 + ((u + t) % 12)).join(' ')}`).join('\n') + '\n';

function folder(name: string, files: Record<string, string>): string {
  const path = join(root, name);
  mkdirSync(path);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
}

const dataConfig = (path: string, attributes: string | null = null) => ({ ...defaultConfig().data, path, attributes });
const tsv = 'item_id\tasin\tattribute_ids\n' + Array.from({ length: 12 }, (_, i) => `${i + 1}\tB${i + 1}\t${1 + (i % 3)} ${4 + (i % 4)}`).join('\n') + '\n';

describe('data folders with attribute ids', () => {
  it('finds items.tsv beside the sequence file and adds the attributes to the catalogue; ids embed them', async () => {
    const data = await loadData(dataConfig(folder('tsv', { 'Sports.txt': SEQUENCES, 'items.tsv': tsv })));
    expect(data.catalog?.records[1]).toMatchObject({ id: 1, fields: { attributes: 'a1 a4' } });
    expect(data.catalog?.records[6]?.fields['attributes']).toBe('a3 a5');
    expect(data.fingerprint.files.map((file) => file.path.split('/').pop())).toEqual(['Sports.txt', 'items.tsv']);
    const ids = await buildIds(data, { ...defaultConfig().ids, dimension: 4, codebookSize: 4 });
    expect(ids.embeddings).toBe('text (attributes), TF-IDF + SVD 4');
  });

  it('adds S3-Rec *_item2attributes.json to the titles of items.jsonl; titles stay the ids\' text', async () => {
    const json = JSON.stringify(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [String(i + 1), [1 + (i % 2)]])));
    const jsonl = Array.from({ length: 12 }, (_, i) => JSON.stringify({ item_id: i + 1, title: `toy number ${i % 5} red` })).join('\n') + '\n';
    const data = await loadData(dataConfig(folder('json', { 'Toys.txt': SEQUENCES, 'items.jsonl': jsonl, 'Toys_item2attributes.json': json })));
    expect(data.catalog?.records[2]).toMatchObject({ id: 2, title: 'toy number 1 red', fields: { attributes: 'a2' } });
    const ids = await buildIds(data, { ...defaultConfig().ids, dimension: 2, codebookSize: 2 });
    expect(ids.embeddings).toBe('text (title), TF-IDF + SVD 2');
  });

  it('refuses attribute files beside an interaction log (its items are renumbered) and names a missing file', async () => {
    const log = 'user,item,timestamp\n' + Array.from({ length: 40 }, (_, r) => `u${r % 8},i${r % 10},${r}`).join('\n') + '\n';
    const path = folder('log', { 'log.csv': log, 'attrs.tsv': tsv });
    await expect(loadData(dataConfig(join(path, 'log.csv'), join(path, 'attrs.tsv')))).rejects.toThrow(/config field data\.attributes: attribute files are keyed by the sequence file's own item ids/);
    await expect(loadData(dataConfig(join(path, 'log.csv'), join(path, 'missing.tsv')))).rejects.toThrow(/attribute file .*missing\.tsv does not exist/);
  });
});
