export { main, mainHelp } from './main.js';
export { type CommandIO, ExitCode } from './io.js';
export { renderHtmlReport, type BenchReport, type BenchRow } from './report.js';
