// Wires the session to the screen: keys → actions → effects, and one frame scheduler (≤ 10 fps) that
// re-renders only when the model or the view state changed. Panes are pure text builders.

import os from 'node:os';
import path from 'node:path';
import * as widgets from './widgets';
import type { Widgets } from 'blessed';
import type { FilterSpec, LossStage, SourceKind, StreamRecord } from '../core/types';
import type { ProcessRow, SortSpec, ViewOptions } from '../model/processTable';
import { treeDepth } from '../model/tableView';
import { commandEndText } from '../core/exitReason';
import { describeFilter, formatFilter } from '../core/filter';
import { writeSnapshot } from '../output/snapshot';
import { errorLine, handleKey, keyId, Redraw, type ActionContext, type Effect, type KeyInfo } from './actions';
import { detailsBody } from './details';
import { collapseRuns, renderLog, type LogLine } from './logPane';
import { helpBody, renderHint } from './help';
import { computeLayout, type Layout, type Rect } from './layout';
import { renderTable } from './tablePane';
import { renderPrompt } from './prompt';
import { sortPickerBody } from './sortPicker';
import { signalConfirmBody, signalMenuBody } from './signalMenu';
import { renderSparks, type RateSource } from './sparklines';
import { ChartView } from './chartPane';
import { renderStatus } from './statusBar';
import { openScreen, pickTerminal, restoreTerminal, suspendTerminal, terminalFailure, type TerminalIo } from './terminal';
import { frame, type Segment } from './text';
import { makeTheme, type Theme } from './theme';
import { initialViewState, syncSelection, viewOptions, viewOptionsChanged, type ViewState } from './viewState';

export { capturedStderr, restoreTerminal } from './terminal';

/** What the UI needs from the lead's Session (structural, so tests can hand in a fake). */
export interface UiSession {
  readonly source: { readonly kind: SourceKind };
  readonly table: {
    view(opts: ViewOptions, now: number): readonly ProcessRow[];
    get(key: string): ProcessRow | undefined;
    parentChain(key: string): ProcessRow[];
    /** Rows the last view folded away. */
    folded?(): number;
    counts(): { running: number; exited: number; lost: number; total: number };
    readonly version: number;
  };
  readonly rates: RateSource;
  /** Rates over the last 10 minutes, for the chart view (g); the sparklines' rates when absent. */
  readonly history?: RateSource;
  readonly log: { entries(): StreamRecord[]; readonly version: number };
  readonly filter: FilterSpec;
  readonly caveat?: string;
  /** Model time (epoch ms): a replay runs on the recording's clock. Wall clock when absent or 0. */
  now?(): number;
  setFilter(spec: FilterSpec): void;
  /** Unit patterns shown (--unit); the UI's `u` changes them. */
  readonly units?: string[] | null;
  setUnits?(units: string[] | null): void;
  eventsPerSec(): number;
  /** Events lost so far, per stage. */
  loss(): Record<LossStage, number>;
  /** What stopped the source, if anything did. */
  readonly fault?: string | null;
  /** false until the source is attached (the first frame may come before). */
  readonly started?: boolean;
  /** Rows found after a loss (shown next to the loss). */
  readonly inferred?: { recovered: number };
  /** Makes the table agree with /proc right before a snapshot. */
  reconcileNow?(): void;
  /** Counters written into a snapshot. */
  snapshotCounters?(): Record<string, number>;
  /** A signal to exactly this process (never a reused pid): "sent" or why not. */
  sendSignal?(target: { pid: number; start: number }, signal: number): string;
  on(event: 'change', listener: () => void): unknown;
  off(event: 'change', listener: () => void): unknown;
}

export interface UiOptions {
  ascii: boolean;
  color: boolean;
  /** Where relative snapshot names are written (default: the current directory). */
  snapshotDir?: string;
  /** Initial sort (e.g. from the command line). */
  sort?: SortSpec;
  /** Terminal streams (default stdin/stdout); tests drive the UI through pipes. */
  io?: TerminalIo;
  /** Launch mode: the command lifetop started (Ctrl-C goes to it first; the status bar says how it ended). */
  command?: LaunchedView;
  /** Called once the first frame is written (the kernel source attaches behind it). */
  onFirstFrame?: () => void;
}

/** What the UI needs of a launched command. */
export interface LaunchedView {
  readonly pid: number;
  readonly end: { status: number; code: number | null; signal: string | null } | null;
  /** The file its output goes to. */
  readonly log?: string;
  signal(sig: NodeJS.Signals): boolean;
}

const FRAME_MS = 100;
/** Rows from which a changing table's view is recomputed at most every VIEW_REFRESH_MS, not every frame. */
const BIG_TABLE = 5000;
const VIEW_REFRESH_MS = 500;
const OVERLAY_MAX_WIDTH = 90;

type BoxName = 'status' | 'sparks' | 'table' | 'log' | 'hint' | 'prompt' | 'overlay';

/** A paused display: copies of what was on screen (the model updates rows in place) and its time, so ages hold still. */
interface Frozen {
  rows: readonly ProcessRow[];
  /** Tree nesting of the copies, as it was. */
  depths: Map<ProcessRow, number>;
  log: StreamRecord[];
  now: number;
}

class App {
  private state: ViewState = initialViewState();
  private layout: Layout;
  private readonly boxes: Record<BoxName, Widgets.BoxElement>;
  private rows: readonly ProcessRow[] = [];
  private rowsVersion = -1;
  private rowsState: ViewState | null = null;
  /** Wall clock of the last view computed. */
  private rowsAt = 0;
  private frozen: Frozen | null = null;
  private overlayLines = 0;
  private overlayPage = 0;
  private dirty = true;
  private lastSecond = 0;
  private seenLogVersion = -1;
  private seenTableVersion = -1;
  private chart: ChartView | null = null;
  /** The folded log, for the frozen copy it was made from or the log version. */
  private logCache: { from: Frozen | number; fold: boolean; lines: LogLine[] } | null = null;
  /** The chart view was shown at the last layout. */
  private chartPlaced = false;

  constructor(
    private readonly session: UiSession,
    private readonly screen: Widgets.Screen,
    private readonly theme: Theme,
    private readonly snapshotDir: string,
    private readonly finish: (code: number) => void,
    initialSort?: SortSpec,
    private readonly command?: LaunchedView,
  ) {
    if (initialSort) this.state = { ...this.state, sort: { ...initialSort } };
    if (session.units) this.state = { ...this.state, units: session.units };
    this.layout = computeLayout(screen.width as number, screen.height as number);
    this.boxes = this.createBoxes();
    this.applyLayout();
  }

  /** Boxes are created once and only moved, shown and hidden: destroy() on blessed widgets leaks. */
  private createBoxes(): Record<BoxName, Widgets.BoxElement> {
    const make = (hidden = false): Widgets.BoxElement =>
      widgets.box({ parent: this.screen, tags: true, wrap: false, hidden, top: 0, left: 0, width: 1, height: 1 });
    return {
      status: make(), sparks: make(), table: make(), log: make(), hint: make(),
      prompt: make(true), overlay: make(true),
    };
  }

  /** Time for ages, highlights and snapshots: the session's clock (a replay's recorded time). */
  private modelNow(): number {
    const t = this.session.now?.();
    return t !== undefined && t > 0 ? t : Date.now();
  }

  markDirty(): void {
    this.dirty = true;
  }

  onResize(): void {
    this.layout = computeLayout(this.screen.width as number, this.screen.height as number);
    this.applyLayout();
    this.dirty = true;
    this.render(this.modelNow());
  }

  private applyLayout(): void {
    const place = (box: Widgets.BoxElement, r: Rect | null): void => {
      if (!r || r.height <= 0) {
        box.hide();
        return;
      }
      box.top = r.top;
      box.left = r.left;
      box.width = r.width;
      box.height = r.height;
      box.show();
    };
    const l = this.layout;
    place(this.boxes.status, l.status);
    const chart = this.state.chart;
    place(this.boxes.sparks, chart ? null : l.sparks);
    place(this.boxes.table, chart ? null : l.table);
    place(this.boxes.log, chart ? null : l.log);
    place(this.boxes.hint, l.hint);
    this.chartPlaced = chart;
    if (chart) {
      // The chart takes every line between the status bar and the hint line.
      const top = l.status.top + l.status.height;
      (this.chart ??= new ChartView(this.screen, this.theme)).place({ top, left: 0, width: l.width, height: Math.max(2, l.hint.top - top) });
    } else {
      this.chart?.hide();
    }
    if (!l.log && this.state.focus === 'log') this.state = { ...this.state, focus: 'table', logScroll: 0 };
  }

  onKey(ch: string | undefined, key: KeyInfo | undefined): void {
    const id = keyId(ch, key);
    if (id === '') return;
    const now = this.modelNow();
    const ctx = this.context(now);
    // Re-anchor first so the key acts on the row the user sees selected, even if the model moved.
    const before = syncSelection(this.state, ctx.rows, ctx.tablePage);
    const out = handleKey(before, id, ch, ctx);
    this.state = out.state;
    if (out.state.chart !== this.chartPlaced) this.applyLayout();
    if (out.redraw !== Redraw.NONE || viewOptionsChanged(before, out.state)) this.dirty = true;
    if (!out.state.paused) this.frozen = null;
    else if (!before.paused || viewOptionsChanged(before, out.state)) this.frozen = this.capture(now);
    for (const effect of out.effects) this.perform(effect);
    // Keys are answered at once rather than on the next tick: typing in a prompt must feel immediate.
    if (this.dirty) this.render(now);
  }

  private context(now: number): ActionContext {
    const l = this.layout;
    const log = this.logEntries();
    return {
      now: Date.now(), // only names the snapshot file: wall clock
      filter: this.session.filter,
      rows: this.displayedRows(now),
      tablePage: Math.max(1, l.table.height - 1),
      logCount: log.length,
      logPage: l.log ? Math.max(0, l.log.height - 1) : 0,
      overlayLines: this.overlayLines,
      overlayPage: this.overlayPage,
      snapshotDir: this.snapshotDir,
      ...(this.session.source.kind === 'replay' || !this.session.sendSignal
        ? { signalsDisabled: 'signals are off in a replay: its processes are not this machine\'s now' } : {}),
      commandRunning: this.command !== undefined && this.command.end === null,
    };
  }

  private perform(effect: Effect): void {
    if (effect.kind === 'quit') {
      this.finish(effect.code);
    } else if (effect.kind === 'interrupt') {
      this.command?.signal('SIGINT');
    } else if (effect.kind === 'signal') {
      const { target, signal } = effect;
      const result = this.session.sendSignal?.(target, os.constants.signals[signal]) ?? 'not sent';
      const who = `${target.pid} (${target.comm})`;
      const text: Record<string, string> = {
        sent: `${signal} sent to ${who}`,
        gone: `${signal} not sent: ${who} has exited`,
        reused: `${signal} not sent: pid ${target.pid} is another process now`,
        permission: `${signal} not sent to ${who}: permission denied`,
      };
      this.message(text[result] ?? `${signal} not sent to ${who}: ${result}`, result !== 'sent');
    } else if (effect.kind === 'suspend') {
      suspendTerminal(); // returns after fg, having redrawn everything
    } else if (effect.kind === 'setUnits') {
      this.session.setUnits?.(effect.units);
    } else if (effect.kind === 'setFilter') {
      try {
        this.session.setFilter(effect.spec);
      } catch (err) {
        this.message(errorLine(err), true);
      }
    } else {
      this.snapshot(effect.path);
    }
  }

  private snapshot(target: string): void {
    if (!this.frozen) this.session.reconcileNow?.(); // a paused screen is written as shown
    const now = this.modelNow();
    // Folding only changes what is shown: a saved table holds every process.
    const rows = this.frozen ? this.frozen.rows : this.session.table.view({ ...viewOptions(this.state), fold: false }, now);
    const meta = {
      takenAt: now, filter: formatFilter(this.session.filter.patterns), sort: this.state.sort,
      counters: this.session.snapshotCounters?.(),
    };
    writeSnapshot(target, rows, meta, now).then(
      (abs) => this.message(`saved ${abs} (${rows.length} rows)`, false),
      (err: unknown) => this.message(errorLine(err), true),
    );
  }

  private message(text: string, isError: boolean): void {
    this.state = { ...this.state, message: text, messageIsError: isError };
    this.dirty = true;
  }

  private capture(now: number): Frozen {
    const depths = new Map<ProcessRow, number>();
    const rows = this.session.table.view(viewOptions(this.state), now).map((r) => {
      const copy = { ...r, args: r.args.slice() };
      if (this.state.tree) depths.set(copy, treeDepth(r));
      return copy;
    });
    return { rows, depths, log: this.session.log.entries().slice(), now };
  }

  /** The rows on screen: the paused copy, or the model's view recomputed only when something changed. */
  private displayedRows(now: number): readonly ProcessRow[] {
    if (this.frozen) return this.frozen.rows;
    const table = this.session.table;
    const asked = !this.rowsState || viewOptionsChanged(this.rowsState, this.state);
    // A big table in a storm changes every frame: its order is worked out again at most every
    // VIEW_REFRESH_MS (rows are updated in place, so states and ages on screen stay current).
    const settled = this.rows.length < BIG_TABLE || Date.now() - this.rowsAt >= VIEW_REFRESH_MS;
    if (asked || (table.version !== this.rowsVersion && settled)) {
      this.rows = table.view(viewOptions(this.state), now);
      this.rowsVersion = table.version;
      this.rowsState = this.state;
      this.rowsAt = Date.now();
    }
    return this.rows;
  }

  /** The scheduler's tick: renders when marked dirty, when the model moved, or once a second (clock, ages). */
  tick(): void {
    const now = this.modelNow();
    const second = Math.floor(now / 1000);
    const moved = this.session.table.version !== this.seenTableVersion || this.session.log.version !== this.seenLogVersion;
    if (!this.dirty && !moved && second === this.lastSecond) return;
    this.render(now);
  }

  private render(now: number): void {
    // restoreTerminal() from a signal handler may have torn the screen down under us: draw nothing more.
    if ((this.screen as unknown as { destroyed?: boolean }).destroyed) return;
    this.lastSecond = Math.floor(now / 1000);
    this.seenLogVersion = this.session.log.version;
    this.seenTableVersion = this.session.table.version;
    this.dirty = false;
    const rows = this.displayedRows(now);
    const l = this.layout;
    this.state = syncSelection(this.state, rows, Math.max(1, l.table.height - 1));
    this.boxes.status.setContent(this.statusText(now));
    if (this.state.chart) {
      this.chart!.show(this.session.history ?? this.session.rates);
    } else {
      if (l.sparks) this.boxes.sparks.setContent(renderSparks(this.session.rates, l.width, l.sparks.height, this.theme));
      this.boxes.table.setContent(this.tableText(rows, this.frozen?.now ?? now));
      if (l.log) this.boxes.log.setContent(this.logText());
    }
    this.boxes.hint.setContent(renderHint(l.width, this.theme));
    this.renderPromptBox();
    this.renderOverlay(now);
    this.screen.render();
  }

  private statusText(now: number): string {
    const s = this.session;
    const info = {
      sourceKind: s.started === false ? `${s.source.kind} attaching…` : s.source.kind, filter: s.filter, counts: s.table.counts(),
      eventsPerSec: s.eventsPerSec(), loss: s.loss(), recovered: s.inferred?.recovered ?? 0, fault: s.fault ?? null,
      caveat: s.caveat, now, command: this.commandText(), folded: this.frozen || !this.state.fold ? 0 : s.table.folded?.() ?? 0,
    };
    return renderStatus(info, this.state, this.layout.width, this.theme);
  }

  /** Launch mode: how the command stands, for the status bar. */
  private commandText(): string | undefined {
    const c = this.command;
    if (!c) return undefined;
    if (!c.end) return `command ${c.pid} running${c.log ? `, output in ${c.log}` : ''}`;
    return commandEndText(c.end);
  }

  private tableText(rows: readonly ProcessRow[], now: number): string {
    const s = this.state;
    const pattern = describeFilter(this.session.filter);
    const units = s.units ? ` in units ${formatFilter(s.units)}` : '';
    const emptyText = s.query ? `no rows match "${s.query}"` : `no processes matching ${pattern}${units} yet`;
    const frozen = this.frozen;
    const depthOf = frozen ? (r: ProcessRow) => frozen.depths.get(r) ?? 0 : s.tree ? treeDepth : undefined;
    const view = { selected: s.selected, scroll: s.scroll, sort: s.sort, focused: s.focus === 'table', emptyText, depthOf };
    return renderTable(rows, view, this.layout.width, this.layout.table.height, this.theme, now);
  }

  /** The log as shown: repeats collapsed (cached per log version) while folding. */
  private logEntries(): readonly LogLine[] {
    const from = this.frozen ?? this.session.log.version;
    const fold = this.state.fold;
    if (this.logCache?.from !== from || this.logCache.fold !== fold) {
      const entries = this.frozen?.log ?? this.session.log.entries();
      this.logCache = { from, fold, lines: fold ? collapseRuns(entries) : entries.map((ev) => ({ ev, count: 1 })) };
    }
    return this.logCache.lines;
  }

  private logText(): string {
    const l = this.layout.log!;
    const entries = this.logEntries();
    return renderLog(entries, this.state.logScroll, l.width, l.height, this.state.focus === 'log', this.theme);
  }

  private renderPromptBox(): void {
    const box = this.boxes.prompt;
    const p = this.state.prompt;
    if (!p) {
      box.hide();
      return;
    }
    const h = this.layout.hint;
    Object.assign(box, { top: Math.max(0, h.top), left: 0, width: this.layout.width, height: 1 });
    box.setContent(renderPrompt(p, this.layout.width, this.theme));
    box.show();
    box.setFront();
  }

  private overlayBody(now: number): { title: string; body: Segment[][]; width: number } | null {
    const s = this.state;
    const width = Math.min(this.layout.width, OVERLAY_MAX_WIDTH);
    if (s.overlay === 'help') return { title: 'lifetop keys', body: helpBody(), width };
    if (s.overlay === 'sortPicker') return { title: 'Sort by', body: sortPickerBody(s, this.theme), width: Math.min(width, 28) };
    if (s.overlay === 'signalMenu') return { title: 'Send signal', body: signalMenuBody(s), width: Math.min(width, 34) };
    if (s.overlay === 'signalConfirm') return { title: 'Confirm', body: signalConfirmBody(s, Math.min(width, 70) - 4), width: Math.min(width, 70) };
    if (s.overlay === 'details' && s.detailsKey) {
      const row = this.session.table.get(s.detailsKey) ?? this.frozen?.rows.find((r) => r.key === s.detailsKey);
      const chain = row ? this.session.table.parentChain(row.key) : [];
      return { title: row ? `Process ${row.pid}` : 'Process', body: detailsBody(row, chain, width - 4, now), width };
    }
    return null;
  }

  private renderOverlay(now: number): void {
    const box = this.boxes.overlay;
    const o = this.overlayBody(now);
    if (!o) {
      box.hide();
      this.overlayLines = 0;
      return;
    }
    const height = Math.max(3, Math.min(this.layout.height, o.body.length + 2));
    this.overlayLines = o.body.length;
    this.overlayPage = height - 2;
    Object.assign(box, {
      top: Math.floor((this.layout.height - height) / 2), left: Math.floor((this.layout.width - o.width) / 2),
      width: o.width, height,
    });
    box.setContent(frame(o.title, o.body, o.width, height, this.state.overlayScroll, this.theme));
    box.show();
    box.setFront();
  }
}

/**
 * Run the full-screen UI until the user quits (or restoreTerminal() is called); resolves with the exit
 * code, rejects on an internal error. The caller owns the session (start/stop). The terminal is restored
 * on every path; signal handlers call restoreTerminal().
 */
export async function runUi(session: UiSession, opts: UiOptions): Promise<number> {
  const choice = pickTerminal(process.env, opts.color);
  const theme = makeTheme({ color: choice.color, ascii: opts.ascii || !choice.utf8 });
  const screen = openScreen(choice, opts.io);
  let timer: NodeJS.Timeout | undefined;
  let onChange: (() => void) | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      const guard = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A): void => {
        try {
          fn(...a);
        } catch (err) {
          reject(err);
        }
      };
      const snapshotDir = path.resolve(opts.snapshotDir ?? process.cwd());
      const app = new App(session, screen, theme, snapshotDir, resolve, opts.sort, opts.command);
      onChange = () => app.markDirty();
      session.on('change', onChange);
      screen.on('keypress', guard((ch: string | undefined, key: KeyInfo | undefined) => app.onKey(ch, key)));
      screen.on('resize', guard(() => app.onResize()));
      // restoreTerminal() from a signal handler, or a terminal that went away, ends the UI: settle so the
      // caller's cleanup runs. A hang-up is a normal end; a terminal that failed otherwise is an error.
      screen.once('destroy', () => {
        const failed = terminalFailure();
        if (failed) reject(failed);
        else resolve(0);
      });
      timer = setInterval(guard(() => app.tick()), FRAME_MS);
      guard(() => app.tick())();
      // blessed writes the frame on the next tick; what blocks (loading BPF) comes after it.
      if (opts.onFirstFrame) setImmediate(guard(() => opts.onFirstFrame!()));
    });
  } finally {
    if (timer) clearInterval(timer);
    if (onChange) session.off('change', onChange);
    restoreTerminal();
  }
}
