import t from 'tap';
import { ImapError } from '../../../src/imap/protocol/errors';
import {
  exceedsMessageCount,
  invalidSequenceSet,
  expectSequenceSet,
  formatRanges,
  formatSequenceSet,
  isSequenceSet,
  parseSequenceSet,
  rangesInclude,
  rangesOf,
  rangesSize,
  resolveRanges,
  resolveSequenceNumbers,
  resolveUids,
} from '../../../src/imap/protocol/sequence';

t.test('parsing keeps items as written (RFC 3501 §9 sequence-set)', async (t) => {
  t.same(parseSequenceSet('1:3,5,7:*').items, [
    [1, 3],
    [5, 5],
    [7, '*'],
  ]);
  t.same(parseSequenceSet('*').items, [['*', '*']]);
  t.same(parseSequenceSet('5:3').items, [[5, 3]]);
  t.same(parseSequenceSet('4294967295').items, [[4294967295, 4294967295]]);
  t.same(expectSequenceSet({ type: 'number', value: '12', number: 12 }).items, [[12, 12]]);
});

t.test('invalid sets are a BAD: 0, leading zeros, empty items, junk, overflow', async (t) => {
  for (const text of ['0', '1:0', '0:*', '01', '', ',', '1,', ',1', '1,,2', '1::2', '1:2:3', '1-3', 'a', '*:', ':5', '4294967296', '1 2', '$']) {
    t.throws(() => parseSequenceSet(text), ImapError, JSON.stringify(text));
    t.equal(isSequenceSet(text), false, JSON.stringify(text));
  }
  const error = (() => {
    try {
      parseSequenceSet('0');
    } catch (caught) {
      return caught as ImapError;
    }
    return null;
  })();
  t.equal(error?.kind, 'BAD');
  t.throws(() => expectSequenceSet({ type: 'string', value: '1:2' }), ImapError, 'a quoted string is not a sequence set');
  t.throws(() => expectSequenceSet(undefined), ImapError);
});

t.test('resolution: "*" is the largest, reversed ranges, merging', async (t) => {
  t.same(resolveRanges(parseSequenceSet('1:3,5,7:*'), 10), [
    [1, 3],
    [5, 5],
    [7, 10],
  ]);
  t.same(resolveRanges(parseSequenceSet('10:*'), 4), [[4, 10]], '"10:*" with largest 4 is 4:10');
  t.same(resolveRanges(parseSequenceSet('9,1:3,2:5,6,20:15'), 100), [
    [1, 6],
    [9, 9],
    [15, 20],
  ], 'sorted, overlapping and adjacent ranges merged');
  t.same(resolveRanges(parseSequenceSet('*'), 0), [], '"*" in an empty mailbox designates nothing');
});

t.test('sequence numbers are clipped to the message count', async (t) => {
  t.same(resolveSequenceNumbers(parseSequenceSet('1:*'), 100000), [[1, 100000]], 'one range, no expansion');
  t.same(resolveSequenceNumbers(parseSequenceSet('2,4:9,50'), 5), [
    [2, 2],
    [4, 5],
  ]);
  t.same(resolveSequenceNumbers(parseSequenceSet('1:*'), 0), []);
  t.same(resolveSequenceNumbers(parseSequenceSet('*:3'), 2), [[2, 2]], '"*:3" with 2 messages is 2:2');
  t.equal(exceedsMessageCount(parseSequenceSet('*'), 0), false, '"*" never exceeds');
  t.equal(exceedsMessageCount(parseSequenceSet('3:*'), 5), false);
  t.equal(exceedsMessageCount(parseSequenceSet('1:*'), 0), true, 'message 1 does not exist in an empty mailbox');
  t.equal(exceedsMessageCount(parseSequenceSet('1:5'), 5), false);
  t.equal(exceedsMessageCount(parseSequenceSet('1,6'), 5), true);
  t.equal(exceedsMessageCount(parseSequenceSet('6:*'), 5), true);
  const error = invalidSequenceSet();
  t.ok(error instanceof ImapError);
  t.equal(error.kind, 'BAD');
});

t.test('UID sets map to sequence numbers through the sorted UID list (RFC 3501 §6.4.8)', async (t) => {
  const uids = Uint32Array.from([3, 4, 7, 8, 9, 20, 21, 500]);
  t.same(resolveUids(parseSequenceSet('1:*'), uids), [[1, 8]]);
  t.same(resolveUids(parseSequenceSet('4:8'), uids), [[2, 4]]);
  t.same(resolveUids(parseSequenceSet('5:6'), uids), [], 'UIDs that do not exist are ignored');
  t.same(resolveUids(parseSequenceSet('1:4,5:8'), uids), [[1, 4]], 'ranges that touch once gaps are skipped merge');
  t.same(resolveUids(parseSequenceSet('600:*'), uids), [[8, 8]], '"600:*" always includes the last message');
  t.same(resolveUids(parseSequenceSet('*'), uids), [[8, 8]]);
  t.same(resolveUids(parseSequenceSet('20,3,9'), uids), [
    [1, 1],
    [5, 6],
  ]);
  t.same(resolveUids(parseSequenceSet('1000'), uids), []);
  t.same(resolveUids(parseSequenceSet('1:*'), []), [], 'an empty mailbox');
  t.same(resolveUids(parseSequenceSet('2'), [1, 2, 3]), [[2, 2]], 'plain arrays work too');
});

t.test('UID resolution stays cheap on 100 000 messages', async (t) => {
  const uids = new Uint32Array(100000);
  for (let i = 0; i < uids.length; i++) uids[i] = i * 2 + 1; // odd UIDs
  const ranges = resolveUids(parseSequenceSet('1:*'), uids);
  t.same(ranges, [[1, 100000]]);
  t.equal(rangesSize(ranges), 100000);
  const sparse = resolveUids(parseSequenceSet('2:4,101:199,199999'), uids);
  t.same(sparse, [
    [2, 2],
    [51, 100],
    [100000, 100000],
  ]);
});

t.test('membership, sizes, and formatting for responses', async (t) => {
  const ranges = resolveRanges(parseSequenceSet('1:3,7,10:12'), 20);
  t.equal(rangesInclude(ranges, 2), true);
  t.equal(rangesInclude(ranges, 4), false);
  t.equal(rangesInclude(ranges, 12), true);
  t.equal(rangesInclude(ranges, 13), false);
  t.equal(rangesInclude([], 1), false);
  t.equal(rangesSize(ranges), 7);
  t.equal(formatRanges(ranges), '1:3,7,10:12');
  t.equal(formatSequenceSet([5, 1, 2, 3, 9, 10, 2]), '1:3,5,9:10', 'any order, duplicates merged');
  t.equal(formatSequenceSet([]), '');
  t.same(rangesOf([4, 5, 6, 8]), [
    [4, 6],
    [8, 8],
  ]);
  t.equal(formatSequenceSet(parseSequenceSet(formatSequenceSet([1, 2, 4])).items.map(([a]) => a as number)), '1,4', 'round trip');
});
