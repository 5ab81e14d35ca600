import chalk from 'chalk';
import Table from 'cli-table3';
import { markdownTable as gfmTable } from 'markdown-table';
import { stripVTControlCharacters } from 'node:util';
import { COMPACT_TABLE } from '../ui/terminal-style.js';

/**
 * A table as a report builds it, before it is drawn: the terminal and Markdown draw the same cells, so their
 * numbers cannot drift apart. Cells may carry terminal colour.
 */
export interface CellTable {
  head: string[];
  rows: (string | number)[][];
  /** Per column; left when absent. */
  align?: ('left' | 'right')[];
}

export function terminalTable(table: CellTable): string {
  const drawn = new Table({ head: table.head.map((h) => chalk.bold(h)), style: COMPACT_TABLE, colAligns: table.align ?? [] });
  drawn.push(...table.rows);
  return drawn.toString();
}

/** GitHub-flavoured Markdown, to paste into a pull-request comment. */
export function markdownTable(table: CellTable): string {
  return gfmTable([table.head, ...table.rows].map((row) => row.map(markdownCell)), { align: table.align?.map((a) => (a === 'right' ? 'r' : 'l')) });
}

/** Text outside a table, such as a summary line, without its terminal colour. */
export function markdownText(text: string): string {
  return stripVTControlCharacters(text);
}

/**
 * Markdown has no use for terminal colour; a `|` would end the cell early (and `\|` already means a backslash
 * then the end of the cell, so backslashes are escaped first), a newline the row, and `<` may open HTML.
 */
function markdownCell(value: string | number): string {
  return markdownText(String(value))
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, '<br>');
}
