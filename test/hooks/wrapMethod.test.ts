import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commonJsExports, wrapMethod } from '../../src/hooks/wrapMethod';

test('the original runs with the same this, arguments and result; before/after see them; a second wrap is a no-op', () => {
  const seen: unknown[] = [];
  class Thing {
    base = 10;
    add(a: number, b: number): number {
      return this.base + a + b;
    }
  }
  assert.equal(
    wrapMethod(Thing.prototype, 'add', { before: (self, args) => seen.push(['before', (self as Thing).base, [...args]]), after: (_s, _a, result) => seen.push(['after', result]) }),
    true,
  );
  assert.equal(wrapMethod(Thing.prototype, 'add', { before: () => seen.push('twice') }), false);
  assert.equal(new Thing().add(1, 2), 13);
  assert.deepEqual(seen, [
    ['before', 10, [1, 2]],
    ['after', 13],
  ]);
  assert.equal(Thing.prototype.add.name, 'add');
  assert.equal(Thing.prototype.add.length, 2);
});

test('a hook that throws changes nothing; an original that throws throws the same error', () => {
  const target = {
    ok: (x: number) => x * 2,
    fail: () => {
      throw new RangeError('original');
    },
  };
  wrapMethod(target, 'ok', {
    before: () => {
      throw new Error('hook bug');
    },
    after: () => {
      throw new Error('hook bug');
    },
  });
  wrapMethod(target, 'fail', { after: () => assert.fail('after must not run when the original throws') });
  assert.equal(target.ok(4), 8);
  assert.throws(() => target.fail(), RangeError);
});

test('a wrapped factory still works with new and keeps its statics; missing methods are left alone', () => {
  function Factory(this: unknown, name: string): { name: string } {
    return { name };
  }
  (Factory as unknown as { version: string }).version = '1';
  const exports = { server: Factory };
  const created: unknown[] = [];
  wrapMethod(exports, 'server', { after: (_s, _a, result) => created.push(result) });
  assert.deepEqual(exports.server('a'), { name: 'a' });
  assert.deepEqual(new (exports.server as unknown as new (name: string) => { name: string })('b'), { name: 'b' });
  assert.equal((exports.server as unknown as { version: string }).version, '1');
  assert.equal(created.length, 2);
  assert.equal(wrapMethod(exports, 'missing', {}), false);
  assert.equal(wrapMethod(undefined, 'x', {}), false);
});

test('commonJsExports reads module.exports behind an ES namespace', () => {
  const cjs = { a: 1 };
  assert.equal(commonJsExports({ default: cjs, a: 1 }), cjs);
  assert.equal(commonJsExports(cjs), cjs);
});
