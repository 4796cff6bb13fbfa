/**
 * Loads the project's .proto files (the versioned wire format, package blaze.v1) with protobufjs, which
 * generates specialised encoders/decoders at run time (measured fastest here, docs/PERFORMANCE.md).
 * The path resolves the same from src/ (tests) and dist/ (built), both one level below the package root.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const roots = new Map<string, protobuf.Root>();

/** `file` is relative to the package's proto/ folder, e.g. 'blaze/v1/group.proto'. Imports resolve there too. */
export function loadProto(file: string): protobuf.Root {
  let root = roots.get(file);
  if (!root) {
    const base = new URL('../../proto/', import.meta.url);
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => new URL(target, base).pathname;
    root.loadSync(new URL(file, base).pathname, { keepCase: true });
    root.resolveAll();
    roots.set(file, root);
  }
  return root;
}

export function protoText(file: string): string {
  return readFileSync(new URL(`../../proto/${file}`, import.meta.url), 'utf8');
}
