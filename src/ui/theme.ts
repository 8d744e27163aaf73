// Colours and glyphs in one place, so --no-color / NO_COLOR and --ascii switch the whole UI at once.
// Only the 8 basic colours are used: they survive every terminfo blessed may fall back to.

export type Style =
  | 'header' | 'selected' | 'selectedBlur' | 'new' | 'exited' | 'failed' | 'lost'
  | 'error' | 'alert' | 'paused' | 'key' | 'title' | 'message'
  | 'exec' | 'exit' | 'fork' | 'spark' | 'sparkTraced';

export interface Glyphs {
  sortUp: string;
  sortDown: string;
  /** Sparkline levels, index 0 = zero. */
  ramp: string;
  vline: string;
  hline: string;
  corners: [string, string, string, string]; // top-left, top-right, bottom-left, bottom-right
  tree: string;
}

export interface Theme {
  readonly color: boolean;
  readonly ascii: boolean;
  readonly glyphs: Glyphs;
  /** Wrap already-escaped text in the style's blessed tags. */
  paint(style: Style | undefined, text: string): string;
}

const COLOR_TAGS: Record<Style, string[]> = {
  header: ['bold', 'white-fg', 'blue-bg'],
  selected: ['black-fg', 'cyan-bg'],
  selectedBlur: ['underline'],
  new: ['bold', 'green-fg'],
  exited: ['magenta-fg'],
  failed: ['red-fg'],
  lost: ['yellow-fg'],
  error: ['bold', 'red-fg'],
  alert: ['bold', 'white-fg', 'red-bg'],
  paused: ['bold', 'black-fg', 'yellow-bg'],
  key: ['bold', 'cyan-fg'],
  title: ['bold'],
  message: ['green-fg'],
  exec: ['green-fg'],
  exit: ['yellow-fg'],
  fork: ['cyan-fg'],
  spark: ['green-fg'],
  sparkTraced: ['cyan-fg'],
};

// Without colour only attributes remain; rows still differ by their STATE column text.
const MONO_TAGS: Record<Style, string[]> = {
  header: ['bold', 'underline'],
  selected: ['inverse'],
  selectedBlur: ['underline'],
  new: ['bold'],
  exited: [],
  failed: [],
  lost: [],
  error: ['bold'],
  alert: ['bold', 'inverse'],
  paused: ['inverse'],
  key: ['bold'],
  title: ['bold'],
  message: [],
  exec: [],
  exit: [],
  fork: [],
  spark: [],
  sparkTraced: [],
};

const UNICODE_GLYPHS: Glyphs = {
  sortUp: '▲',
  sortDown: '▼',
  ramp: ' ▁▂▃▄▅▆▇█',
  vline: '│',
  hline: '─',
  corners: ['┌', '┐', '└', '┘'],
  tree: '└ ',
};

const ASCII_GLYPHS: Glyphs = {
  sortUp: '^',
  sortDown: 'v',
  ramp: ' .:-=+*#@',
  vline: '|',
  hline: '-',
  corners: ['+', '+', '+', '+'],
  tree: '`-',
};

export function makeTheme(opts: { color: boolean; ascii: boolean }): Theme {
  const table = opts.color ? COLOR_TAGS : MONO_TAGS;
  const open: Partial<Record<Style, string>> = {};
  const close: Partial<Record<Style, string>> = {};
  for (const style of Object.keys(table) as Style[]) {
    open[style] = table[style].map((t) => `{${t}}`).join('');
    close[style] = table[style].slice().reverse().map((t) => `{/${t}}`).join('');
  }
  return {
    color: opts.color,
    ascii: opts.ascii,
    glyphs: opts.ascii ? ASCII_GLYPHS : UNICODE_GLYPHS,
    paint(style, text) {
      if (!style || text === '') return text;
      return `${open[style]}${text}${close[style]}`;
    },
  };
}
