import { attr, encodeModel, type Attribute, type NodeInit, type TensorProtoInit, type ValueInfoInit } from '@genrec/nn';

/**
 * Writes an inference ONNX graph node by node with symbolic input shapes (onnxruntime infers the
 * rest). Values are plain names; constants are deduplicated.
 */
export class GraphWriter {
  readonly #nodes: NodeInit[] = [];
  readonly #initializers: TensorProtoInit[] = [];
  readonly #stored = new Set<string>();
  readonly #constants = new Map<string, string>();
  #next = 0;

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes?: Readonly<Record<string, Attribute>>): string {
    return this.ops(opType, inputs, 1, attributes)[0]!;
  }

  /** Adds a node with `count` outputs. */
  ops(opType: string, inputs: readonly string[], count: number, attributes?: Readonly<Record<string, Attribute>>): string[] {
    const id = this.#next++;
    const outputs = Array.from({ length: count }, (_, k) => `${opType.toLowerCase()}_${id}${count > 1 ? `_${k}` : ''}`);
    this.#nodes.push({ opType, inputs, outputs, name: `n${id}`, ...(attributes ? { attributes } : {}) });
    return outputs;
  }

  /** Stores a float32 tensor under `name` (once) and returns the name. */
  weight(name: string, data: Float32Array, shape: readonly number[]): string {
    if (!this.#stored.has(name)) {
      this.#stored.add(name);
      this.#initializers.push({ name, dtype: 'float32', shape, data });
    }
    return name;
  }

  /** A 1-D int64 constant. */
  int64s(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.#constants.get(key);
    if (name === undefined) {
      name = `const_i64_${this.#constants.size}`;
      this.#constants.set(key, name);
      this.#initializers.push({ name, dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
    }
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.#constants.get(key);
    if (name === undefined) {
      name = `const_f32_${this.#constants.size}`;
      this.#constants.set(key, name);
      this.#initializers.push({ name, dtype: 'float32', shape: [], data: Float32Array.of(value) });
    }
    return name;
  }

  /** `Reshape` to a constant shape (`-1` and `0` as in ONNX). */
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.int64s(shape)]);
  }

  /** `Transpose` with a permutation. */
  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm: attr.ints(perm) });
  }

  /** Serialises the graph; each output value is renamed to its output name (no Identity copies). */
  encode(name: string, inputs: readonly ValueInfoInit[], outputs: ReadonlyArray<{ value: string } & ValueInfoInit>): Uint8Array {
    const renamed = new Map<string, string>();
    const inputNames = new Set(inputs.map((input) => input.name));
    const nodes = [...this.#nodes];
    for (const output of outputs) {
      if (renamed.has(output.value) || inputNames.has(output.value) || this.#stored.has(output.value)) {
        nodes.push({ opType: 'Identity', inputs: [renamed.get(output.value) ?? output.value], outputs: [output.name], name: `out_${output.name}` });
      } else renamed.set(output.value, output.name);
    }
    const rename = (value: string): string => renamed.get(value) ?? value;
    const written = nodes.map((node) => ({ ...node, inputs: node.inputs.map(rename), outputs: node.outputs.map(rename) }));
    const declared = outputs.map(({ name: outputName, dtype, shape }) => ({ name: outputName, dtype, shape }));
    return encodeModel({ name, nodes: written, inputs, outputs: declared, initializers: this.#initializers });
  }
}
