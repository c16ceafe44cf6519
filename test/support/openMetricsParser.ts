/**
 * The strict OpenMetrics parser of the Python `prometheus_client` (Debian's
 * python3-prometheus-client), run on a text: what a standards-minded scraper
 * makes of our output. Resolves the families it read, or rejects with the
 * parser's complaint.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';
const PARSER_MODULE = '/usr/lib/python3/dist-packages/prometheus_client/openmetrics/parser.py';

/** Why the parser cannot run here, or false when it can (CI installs it, so CI never skips). */
export function openMetricsParserUnavailable(): string | false {
  if ((existsSync(PYTHON) && existsSync(PARSER_MODULE)) || process.env.CI === 'true') return false;
  return 'python3-prometheus-client is not installed (apt-get install python3-prometheus-client)';
}

/** One sample as the parser read it. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly exemplar: { readonly labels: Record<string, string>; readonly value: number; readonly timestamp: number | null } | null;
}

/** One metric family as the parser read it. */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly unit: string;
  readonly help: string;
  readonly samples: ParsedSample[];
}

const SCRIPT = `
import json, math, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
def number(v):
    return None if v is None else (str(v) if math.isinf(v) or math.isnan(v) else v)
try:
    families = []
    for f in text_string_to_metric_families(sys.stdin.read()):
        samples = []
        for s in f.samples:
            e = s.exemplar
            samples.append({'name': s.name, 'labels': s.labels, 'value': number(s.value),
                'exemplar': None if e is None else {'labels': e.labels, 'value': number(e.value), 'timestamp': None if e.timestamp is None else float(e.timestamp)}})
        families.append({'name': f.name, 'type': f.type, 'unit': f.unit, 'help': f.documentation, 'samples': samples})
    print(json.dumps({'ok': True, 'families': families}))
except Exception as error:
    print(json.dumps({'ok': False, 'error': str(error)}))
`;

/** Parse `text` strictly as OpenMetrics 1.0. */
export function parseOpenMetrics(text: string): Promise<ParsedFamily[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let result: { ok: boolean; families?: ParsedFamily[]; error?: string };
      try {
        result = JSON.parse(out) as typeof result;
      } catch {
        reject(new Error(`the OpenMetrics parser did not run (exit ${code}): ${err}`));
        return;
      }
      if (result.ok) resolve(result.families ?? []);
      else reject(new Error(`OpenMetrics parser: ${result.error}`));
    });
    child.stdin.end(text);
  });
}
