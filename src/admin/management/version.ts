/** The package version, read once from package.json (same relative path from src/ under tsx and dist/). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    try {
      const url = new URL('../../../package.json', import.meta.url);
      cached = (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
