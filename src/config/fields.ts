/**
 * A tiny hand-written validation kit for the configuration. Every failure is a BlazeError CONFIG whose
 * message is one line naming the key path, what was expected and what was found, so that an operator
 * can fix the file without reading code:
 *   config: listeners.stomp: expected a port number 0-65535 or "off", got "abc"
 */
import { BlazeError } from '../util/errors.js';

/** Validates a present value at `path` and returns it typed; throws BlazeError CONFIG otherwise. */
export type Parse<T> = (value: unknown, path: string) => T;

/** One configuration key: how to validate it and its value when absent. */
export interface Field<T> {
  readonly parse: Parse<T>;
  readonly defaultValue: () => T;
}

export function configError(path: string, problem: string): BlazeError {
  return new BlazeError('CONFIG', `config: ${path}: ${problem}`);
}

/** Short, single-line rendering of an offending value. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}..."` : s;
  }
  return typeof value;
}

export function fail(path: string, expected: string, got: unknown): never {
  throw configError(path, `expected ${expected}, got ${describe(got)}`);
}

export function field<T>(parse: Parse<T>, defaultValue: T | (() => T)): Field<T> {
  return {
    parse,
    defaultValue: typeof defaultValue === 'function' ? (defaultValue as () => T) : () => defaultValue,
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export type Fields<T> = { [K in keyof T]: Field<T[K]> };

/**
 * An object of known keys, each optional with its default. Unknown keys are errors: a misspelt key that
 * is silently ignored is the worst kind of configuration bug.
 */
export function section<T extends object>(fields: Fields<T>): Field<T> {
  const keys = Object.keys(fields) as Array<keyof T & string>;
  const defaults = (): T => {
    const out = {} as T;
    for (const k of keys) out[k] = fields[k].defaultValue();
    return out;
  };
  const parse: Parse<T> = (value, path) => {
    if (!isPlainObject(value)) fail(path || 'top level', 'an object', value);
    for (const k of Object.keys(value)) {
      if (!(k in fields))
        throw configError(join(path, k), `unknown key (expected one of ${keys.join(', ')})`);
    }
    const out = {} as T;
    for (const k of keys) {
      const v = value[k];
      out[k] = v === undefined ? fields[k].defaultValue() : fields[k].parse(v, join(path, k));
    }
    return out;
  };
  return { parse, defaultValue: defaults };
}

export function integer(min: number, max: number, what = 'an integer'): Parse<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      fail(path, `${what} ${min}-${max}`, v);
    }
    return v;
  };
}

export function numberIn(min: number, max: number): Parse<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      fail(path, `a number ${min}-${max}`, v);
    return v;
  };
}

export const port: Parse<number | 'off'> = (v, path) => {
  if (v === 'off') return 'off';
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
  fail(path, 'a port number 0-65535 or "off"', v);
};

export function nonEmptyString(what = 'a non-empty string'): Parse<string> {
  return (v, path) => {
    if (typeof v !== 'string' || v.length === 0) fail(path, what, v);
    return v;
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Parse<T> {
  return (v, path) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      fail(path, `one of ${values.join(', ')}`, v);
    }
    return v as T;
  };
}

export function optional<T>(parse: Parse<T>): Parse<T | undefined> {
  return (v, path) => (v === null ? undefined : parse(v, path));
}

export function listOf<T>(parse: Parse<T>): Parse<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'a list', v);
    return v.map((item, i) => parse(item, `${path}[${i}]`));
  };
}

/** Like `section`, but the listed keys must be present (for items of a list, which have no defaults). */
export function record<T extends object>(
  fields: Fields<T>,
  required: ReadonlyArray<keyof T & string>,
): Parse<T> {
  const s = section(fields);
  return (v, path) => {
    if (isPlainObject(v)) {
      for (const k of required)
        if (v[k] === undefined) throw configError(join(path, k), 'missing required key');
    }
    return s.parse(v, path);
  };
}

/** Known keys, all optional and without defaults: absent keys stay absent (for override blocks). */
export function partialSection<T extends object>(fields: { [K in keyof T]: Parse<T[K]> }): Parse<Partial<T>> {
  const keys = Object.keys(fields) as Array<keyof T & string>;
  return (value, path) => {
    if (!isPlainObject(value)) fail(path, 'an object', value);
    const out: Partial<T> = {};
    for (const k of Object.keys(value)) {
      if (!(k in fields))
        throw configError(join(path, k), `unknown key (expected one of ${keys.join(', ')})`);
      const key = k as keyof T & string;
      if (value[k] !== undefined) out[key] = fields[key](value[k], join(path, k));
    }
    return out;
  };
}

export const boolean: Parse<boolean> = (v, path) => {
  if (typeof v !== 'boolean') fail(path, 'true or false', v);
  return v;
};
