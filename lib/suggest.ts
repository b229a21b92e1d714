/**
 * "Did you mean ...?" for a mistyped command or option, as git, gh and commander suggest: the valid
 * word closest to what was typed, by edit distance (insertions, deletions, substitutions and swaps of
 * two neighbouring letters), when it is close enough to be a typo. No imports: the entry point takes it
 * without loading anything else.
 */

/** Most edits a typo may be away from what was meant (commander's limit too). */
const MAX_DISTANCE = 3;

/**
 * The optimal-string-alignment distance between `a` and `b`: the fewest insertions, deletions,
 * substitutions and swaps of two neighbouring characters that turn one into the other
 * (`valdate` → `validate`: 1; `--trigger-ulr` → `--trigger-url`: 1).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `typed`, or undefined when none is a likely typo of it: at most
 * {@link MAX_DISTANCE} edits away and sharing more than 40% of its length (so `x` suggests nothing).
 * Of equally close candidates, the first in `candidates`' order. Case is ignored.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    const length = Math.max(word.length, candidate.length);
    if (distance > MAX_DISTANCE || (length - distance) / length <= 0.4) continue;
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate;
}
