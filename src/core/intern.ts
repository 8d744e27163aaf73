// One shared copy of a string seen again and again (names, paths, argv, the log's fold keys): what
// keeps thousands of entries (the table's ended rows, the log) keeps one copy of each instead of one
// an entry. Bounded, so what a cache pins stays small: long strings are not kept, and it is cleared
// when full.
export function interner(maxEntries = 4096, maxLength = 256): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    if (s.length > maxLength) return s;
    const had = seen.get(s);
    if (had !== undefined) return had;
    if (seen.size >= maxEntries) seen.clear();
    seen.set(s, s);
    return s;
  };
}
