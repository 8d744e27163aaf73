// F6 overlay body: the sort columns, the highlighted choice and the current sort marked.

import { SORT_COLUMNS } from '../model/processTable';
import type { Segment } from './text';
import type { Theme } from './theme';
import type { ViewState } from './viewState';

export function sortPickerBody(s: ViewState, theme: Theme): Segment[][] {
  const arrow = s.sort.descending ? theme.glyphs.sortDown : theme.glyphs.sortUp;
  return SORT_COLUMNS.map((col, i) => {
    const mark = col === s.sort.column ? ' ' + arrow : '';
    return [{ text: (i === s.sortPick ? '> ' : '  ') + col + mark, style: i === s.sortPick ? 'selected' : undefined }];
  });
}
