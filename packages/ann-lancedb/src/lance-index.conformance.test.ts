import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { LanceIndex, loadLanceIndex } from './lance-index.js';
import { armSaveFault, describeVectorIndexConformance } from '@genrec/ann/testing';

const root = mkdtempSync(join(tmpdir(), 'genrec-lance-conformance-'));
let created = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeVectorIndexConformance('LanceIndex (brute force)', {
  create: ({ dimension, metric }) => LanceIndex.create({ path: join(root, `index-${++created}`), dimension, metric }),
  load: (path, expected) => loadLanceIndex(path, expected),
  // before buildIndex LanceDB scans every row: the whole top-k must equal the float64 reference.
  // (The suite cannot run on an IVF-PQ table: its rows are added by the suite itself, and PQ needs
  // 256 rows to train; an index trained on rows removed again is dropped by LanceDB. The indexed
  // paths have their own cases in lance-index.test.ts.)
  exact: true,
  armSaveFault,
  skip: {
    'a corrupt or mismatched saved index fails to load':
      'the case corrupts top-level data files, and a LanceIndex folder has none: its only top-level file is index.json ' +
      '(sidecar and pointer in one), the data is a LanceDB folder tree whose files carry no checksums (hashing gigabytes ' +
      'on every load would defeat a disk index). lance-index.test.ts covers what is checked instead: a broken or edited ' +
      'sidecar, a snapshot of another save, a missing table version, a damaged manifest.',
  },
});

