import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployDir } from './paths';

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ refId: string; expr: string; datasource?: { type: string; uid: string } }>;
  panels?: Panel[];
}

export const dashboard = JSON.parse(readFileSync(join(deployDir, 'grafana', 'clarion.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: unknown }> };
};

/** Every panel that shows data (rows flattened, rows themselves left out). */
export const dataPanels: Panel[] = dashboard.panels.flatMap((p) =>
  p.type === 'row' ? (p.panels ?? []) : [p],
);
