import { createRequire } from 'node:module';
import type * as ArrowModule from 'apache-arrow';
import { GenrecError } from '@genrec/core';

/**
 * apache-arrow, loaded the way @lancedb/lancedb loads it. LanceDB's JavaScript layer is CommonJS
 * and checks `instanceof arrow.Table`; an ESM `import` of apache-arrow gives a second copy of every
 * class (the package ships both builds), whose tables LanceDB then fails to rebuild ("Table and
 * inner RecordBatch schemas must be equivalent"). `require` resolves to the same CommonJS copy.
 */
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof ArrowModule;

/** Name of the table a LanceIndex keeps its vectors in. */
export const TABLE_NAME = 'vectors';

/** The id column: int32 (ids are in [0, 2^31 - 1]), never null. */
export const ID_COLUMN = 'id';

/** The vector column: `FixedSizeList<float32, dimension>`, never null. */
export const VECTOR_COLUMN = 'vector';

/** The table schema: `id` int32 and `vector` FixedSizeList<float32, dimension>, both non-null. */
export function tableSchema(dimension: number): ArrowModule.Schema {
  const item = new arrow.Field('item', new arrow.Float32(), true);
  return new arrow.Schema([new arrow.Field(ID_COLUMN, new arrow.Int32(), false), new arrow.Field(VECTOR_COLUMN, new arrow.FixedSizeList(dimension, item), false)]);
}

/**
 * One Arrow table of `ids.length` rows over the given buffers (no per-row objects, no copy of the
 * values).
 */
export function rowsTable(schema: ArrowModule.Schema, ids: Int32Array, values: Float32Array, dimension: number): ArrowModule.Table {
  const length = ids.length;
  const vectorType = schema.fields[1]!.type;
  const idData = arrow.makeData({ type: new arrow.Int32(), length, data: ids, nullCount: 0 });
  const valueData = arrow.makeData({ type: new arrow.Float32(), length: length * dimension, data: values, nullCount: 0 });
  const vectorData = arrow.makeData({ type: vectorType as ArrowModule.FixedSizeList<ArrowModule.Float32>, length, child: valueData, nullCount: 0 });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length, children: [idData, vectorData], nullCount: 0 });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
}

/**
 * Checks that a table's schema is the one a LanceIndex writes: `id` int32 and `vector`
 * FixedSizeList<float32, dimension>.
 *
 * @returns a description of the mismatch, or undefined when the schema fits.
 */
export function schemaMismatch(schema: ArrowModule.Schema, dimension: number): string | undefined {
  const names = schema.fields.map((field) => field.name);
  if (names.length !== 2 || names[0] !== ID_COLUMN || names[1] !== VECTOR_COLUMN) return `columns ${JSON.stringify(names)}, expected ["id","vector"]`;
  const idType = schema.fields[0]!.type;
  if (!arrow.DataType.isInt(idType) || idType.bitWidth !== 32 || !idType.isSigned) return `id column of type ${String(idType)}, expected Int32`;
  const vectorType = schema.fields[1]!.type;
  if (!arrow.DataType.isFixedSizeList(vectorType)) return `vector column of type ${String(vectorType)}, expected FixedSizeList[${dimension}]<Float32>`;
  const child = vectorType.children[0]?.type;
  if (vectorType.listSize !== dimension || child === undefined || !arrow.DataType.isFloat(child) || child.precision !== arrow.Precision.SINGLE) {
    return `vector column of type ${String(vectorType)}, expected FixedSizeList[${dimension}]<Float32>`;
  }
  return undefined;
}

/** The `id` and `_distance` columns of a search answer as typed arrays. */
export function answerColumns(table: ArrowModule.Table): { ids: Int32Array; distances: Float32Array } {
  // an empty answer may come without typed columns
  if (table.numRows === 0) return { ids: new Int32Array(0), distances: new Float32Array(0) };
  const ids = table.getChild(ID_COLUMN)?.toArray() as unknown;
  const distances = table.getChild('_distance')?.toArray() as unknown;
  if (!(ids instanceof Int32Array) || !(distances instanceof Float32Array) || ids.length !== distances.length) {
    throw new GenrecError('RUNTIME_ERROR', 'LanceDB answered a search without int32 id and float32 _distance columns of equal length');
  }
  return { ids, distances };
}
