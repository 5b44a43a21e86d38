/** One section of the benchmark report: a titled Markdown table and notes. */
export interface Section {
  title: string;
  header: string[];
  rows: string[][];
  notes?: string[];
}

export interface BenchSettings {
  quick: boolean;
  /** Seconds per load round. */
  seconds: number;
  /** Interleaved rounds per system. */
  rounds: number;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function renderSection(section: Section): string {
  const notes = section.notes?.length ? `\n\n${section.notes.map((n) => `- ${n}`).join('\n')}` : '';
  return `### ${section.title}\n\n${markdownTable(section.header, section.rows)}${notes}\n`;
}
