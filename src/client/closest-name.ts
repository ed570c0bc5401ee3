/**
 * The name of `names` nearest to `name` (a misspelt option: `workerURL`, `heartbeatTimeout`,
 * `credentialKey`): the most letters shared at both ends, ignoring case; then the nearest length.
 */
export function closestName(name: string, names: readonly string[]): string {
  const a = name.toLowerCase();
  const score = (candidate: string) => {
    const b = candidate.toLowerCase();
    let start = 0;
    let end = 0;
    while (start < a.length && a[start] === b[start]) start++;
    while (end < a.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
    return (start + end) * 99 - Math.abs(a.length - b.length);
  };
  return names.reduce((best, candidate) => (score(candidate) > score(best) ? candidate : best));
}
