// The two blessed widgets lifetop draws with, loaded on their own: blessed's index loads all 35 of
// its widgets (images, video, a terminal emulator, forms), ~20 ms of start-up before the first frame.
// The chart's blessed-contrib loads the whole of blessed when the chart is first shown (the same
// module files, so the same classes).
import type blessed from 'blessed';

export const screen = require('blessed/lib/widgets/screen') as typeof blessed.screen;
export const box = require('blessed/lib/widgets/box') as typeof blessed.box;
