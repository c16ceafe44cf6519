import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import type { WorkerState } from '../../src/primary/ClusterSupervisor';
import { PrimaryMetrics } from '../../src/primary/PrimaryMetrics';
import { sameMetrics } from '../../src/snapshot/sameMetrics';

/** `name{labels} value` lines of one reading of the worker table. */
function lines(metrics: PrimaryMetrics): string[] {
  return metrics
    .tableMetrics()
    .flatMap((m) => m.points.map((p) => `${m.name}${JSON.stringify(p.attributes)} ${String(p.value)}`))
    .sort();
}

test('the worker table is read afresh: a slot that leaves has no series left, at any state it was in', () => {
  const states = new Map<number, WorkerState>([
    [0, 'running'],
    [1, 'running'],
    [2, 'running'],
  ]);
  let desired = 3;
  const metrics = new PrimaryMetrics(new MeterProvider().getMeter('test'), { workerStates: () => states, desiredWorkers: () => desired });
  const first = lines(metrics);
  assert.ok(first.includes(`${CATALOGUE.state.name}{"worker_id":"2","state":"running"} 1`), first.join('\n'));
  assert.ok(first.includes(`${CATALOGUE.workers.name}{} 3`));
  assert.ok(first.includes(`${CATALOGUE.workersDesired.name}{} 3`));

  // TTOU: worker 2 leaves while it still reads `running` (no reading fell between its stop and its exit).
  states.delete(2);
  desired = 2;
  const after = lines(metrics);
  assert.deepEqual(
    after.filter((line) => line.includes('"worker_id":"2"')),
    [],
  );
  assert.ok(after.includes(`${CATALOGUE.workers.name}{} 2`));
  assert.ok(after.includes(`${CATALOGUE.workersDesired.name}{} 2`));
  assert.equal(after.filter((line) => line.startsWith(`${CATALOGUE.state.name}{`) && line.endsWith(' 1')).length, 2, 'one state per live worker');
});

test('an unchanged table reads equal from one snapshot to the next (an idle primary only renews its lease)', async () => {
  const states = new Map<number, WorkerState>([[0, 'running']]);
  const metrics = new PrimaryMetrics(new MeterProvider().getMeter('test'), { workerStates: () => states });
  const first = metrics.tableMetrics();
  // Later readings, as a later flush makes them: nothing in them may depend on the time they are read at.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(sameMetrics(first, metrics.tableMetrics()), 'the same table, read 20 ms later, must compare equal');
  states.set(0, 'stopping');
  assert.ok(!sameMetrics(first, metrics.tableMetrics()), 'a state change must not compare equal');
  assert.ok(!metrics.tableMetrics().some((m) => m.name === CATALOGUE.workersDesired.name), 'no desired count without a supervisor');
});
