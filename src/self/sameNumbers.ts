/**
 * Whether two number lists (histogram bucket boundaries, typically) hold the
 * same values in the same order. The same array, or two absent lists, are
 * equal; an absent list never equals a present one. Elements compare with
 * `===`, so `0` equals `-0` (they format alike) and `NaN` equals nothing.
 *
 * @param a one list, or undefined
 * @param b the other list, or undefined
 */
export function sameNumbers(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
