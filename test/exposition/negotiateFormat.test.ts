import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiateFormat } from '../../src/exposition/negotiateFormat';

test('Prometheus 2 and 3 scrape headers get OpenMetrics', () => {
  assert.equal(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), 'openmetrics');
  assert.equal(negotiateFormat('application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'), 'openmetrics');
  assert.equal(negotiateFormat('application/openmetrics-text'), 'openmetrics');
  assert.equal(negotiateFormat('Application/OpenMetrics-Text; Version="1.0.0"'), 'openmetrics');
});

test('the classic text when the scraper does not rate OpenMetrics higher', () => {
  assert.equal(negotiateFormat(undefined), 'prometheus');
  assert.equal(negotiateFormat(''), 'prometheus');
  assert.equal(negotiateFormat('*/*'), 'prometheus');
  assert.equal(negotiateFormat('text/plain;version=0.0.4'), 'prometheus');
  assert.equal(negotiateFormat('application/openmetrics-text;q=0.5,text/plain;q=0.5'), 'prometheus', 'a tie keeps the classic format');
  assert.equal(negotiateFormat('application/openmetrics-text;q=0.5,text/*;q=0.9'), 'prometheus');
  assert.equal(negotiateFormat('application/openmetrics-text;q=0,*/*'), 'prometheus', 'q=0 refuses it');
  assert.equal(negotiateFormat('application/openmetrics-text;version=2.0.0'), 'prometheus', 'a version this package does not write');
  assert.equal(negotiateFormat('application/openmetrics-text;q=banana'), 'prometheus');
});

test('a hostile header is read only as far as its first media ranges', () => {
  const long = `${'text/plain;q=0.1,'.repeat(100_000)}application/openmetrics-text`;
  assert.equal(negotiateFormat(long), 'prometheus');
});
