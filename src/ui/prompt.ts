// The single-line input's text: label, the typed text (its tail when long), a drawn cursor and either
// the validation error or a reminder. Editing itself is pure state in actions.ts; one box shows this.

import { line, type Segment } from './text';
import type { Theme } from './theme';
import type { PromptState } from './viewState';

const LABELS: Record<PromptState['kind'], string> = {
  filter: ' Filter (comm patterns)> ',
  search: ' Search> ',
  snapshot: ' Save table to> ',
  unit: ' Units (patterns, empty: all)> ',
};

export function renderPrompt(p: PromptState, width: number, theme: Theme): string {
  const label = LABELS[p.kind];
  const tail: Segment = p.error
    ? { text: '  ' + p.error, style: 'error' }
    : { text: p.kind === 'search' ? '  Enter keep, Esc clear' : '  Enter ok, Esc cancel' };
  const tailText = tail.text.slice(0, Math.max(0, Math.floor(width / 2)));
  const room = Math.max(1, width - label.length - 1 - tailText.length);
  const shown = p.text.length > room ? p.text.slice(p.text.length - room) : p.text;
  return line([
    { text: label, style: 'title' }, { text: shown }, { text: ' ', style: 'selected' }, { ...tail, text: tailText },
  ], width, theme);
}
