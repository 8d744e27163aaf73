// What a terminal shows of a pane's blessed-tagged text: tags removed, escaped braces restored.
export function plain(tagged: string): string {
  return tagged.replace(/\{(\/?[\w-]+)\}/g, (_, t: string) => (t === 'open' ? '{' : t === 'close' ? '}' : ''));
}
