import { describe, expect, it } from 'vitest';
import { unpickle } from '../../src/weights/pickle.js';
import { TORCH_GLOBALS } from '../../src/weights/torch.js';

/**
 * Python's pickle.dumps of one plain object at every protocol (0-5), made once with CPython 3 and kept
 * here as data:
 * {'a': [1, 2.5, None, True, False], 'b': (b'xy', 'ü€', 2**70, -3, -2**40), 'c': {1, 2}, 'd': frozenset(),
 *  'e': OrderedDict(k=1), 'f': (), 'g': (1,), 'h': (1, 2), 'i': (1, 2, 3), 'j': 255, 'k': 65535, 'l': -1}
 */
const PICKLES: [number, string][] = [
  [
    0,
    'KGRwMApWYQpwMQoobHAyCkkxCmFGMi41CmFOYUkwMQphSTAwCmFzVmIKcDMKKGNfY29kZWNzCmVuY29kZQpwNAooVnh5CnA1ClZsYXRpbjEKcDYKdHA3ClJwOApW/Fx1MjBhYwpwOQpMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKSS0zCkwtMTA5OTUxMTYyNzc3NkwKdHAxMApzVmMKcDExCmNfX2J1aWx0aW5fXwpzZXQKcDEyCigobHAxMwpJMQphSTIKYXRwMTQKUnAxNQpzVmQKcDE2CmNfX2J1aWx0aW5fXwpmcm96ZW5zZXQKcDE3CigobHAxOAp0cDE5ClJwMjAKc1ZlCnAyMQpjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcDIyCih0UnAyMwpWawpwMjQKSTEKc3NWZgpwMjUKKHRzVmcKcDI2CihJMQp0cDI3CnNWaApwMjgKKEkxCkkyCnRwMjkKc1ZpCnAzMAooSTEKSTIKSTMKdHAzMQpzVmoKcDMyCkkyNTUKc2cyNApJNjU1MzUKc1ZsCnAzMwpJLTEKcy4=',
  ],
  [
    1,
    'fXEAKFgBAAAAYXEBXXECKEsBR0AEAAAAAAAATkkwMQpJMDAKZVgBAAAAYnEDKGNfY29kZWNzCmVuY29kZQpxBChYAgAAAHh5cQVYBgAAAGxhdGluMXEGdHEHUnEIWAUAAADDvOKCrHEJTDExODA1OTE2MjA3MTc0MTEzMDM0MjRMCkr9////TC0xMDk5NTExNjI3Nzc2TAp0cQpYAQAAAGNxC2NfX2J1aWx0aW5fXwpzZXQKcQwoXXENKEsBSwJldHEOUnEPWAEAAABkcRBjX19idWlsdGluX18KZnJvemVuc2V0CnERKF1xEnRxE1JxFFgBAAAAZXEVY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEWKVJxF1gBAAAAa3EYSwFzWAEAAABmcRkpWAEAAABncRooSwF0cRtYAQAAAGhxHChLAUsCdHEdWAEAAABpcR4oSwFLAksDdHEfWAEAAABqcSBL/2gYTf//WAEAAABscSFK/////3Uu',
  ],
  [
    2,
    'gAJ9cQAoWAEAAABhcQFdcQIoSwFHQAQAAAAAAABOiIllWAEAAABicQMoY19jb2RlY3MKZW5jb2RlCnEEWAIAAAB4eXEFWAYAAABsYXRpbjFxBoZxB1JxCFgFAAAAw7zigqxxCYoJAAAAAAAAAABASv3///+KBgAAAAAA/3RxClgBAAAAY3ELY19fYnVpbHRpbl9fCnNldApxDF1xDShLAUsCZYVxDlJxD1gBAAAAZHEQY19fYnVpbHRpbl9fCmZyb3plbnNldApxEV1xEoVxE1JxFFgBAAAAZXEVY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnEWKVJxF1gBAAAAa3EYSwFzWAEAAABmcRkpWAEAAABncRpLAYVxG1gBAAAAaHEcSwFLAoZxHVgBAAAAaXEeSwFLAksDh3EfWAEAAABqcSBL/2gYTf//WAEAAABscSFK/////3Uu',
  ],
  [
    3,
    'gAN9cQAoWAEAAABhcQFdcQIoSwFHQAQAAAAAAABOiIllWAEAAABicQMoQwJ4eXEEWAUAAADDvOKCrHEFigkAAAAAAAAAAEBK/f///4oGAAAAAAD/dHEGWAEAAABjcQdjYnVpbHRpbnMKc2V0CnEIXXEJKEsBSwJlhXEKUnELWAEAAABkcQxjYnVpbHRpbnMKZnJvemVuc2V0CnENXXEOhXEPUnEQWAEAAABlcRFjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcRIpUnETWAEAAABrcRRLAXNYAQAAAGZxFSlYAQAAAGdxFksBhXEXWAEAAABocRhLAUsChnEZWAEAAABpcRpLAUsCSwOHcRtYAQAAAGpxHEv/aBRN//9YAQAAAGxxHUr/////dS4=',
  ],
  [
    4,
    'gASVvQAAAAAAAAB9lCiMAWGUXZQoSwFHQAQAAAAAAABOiIlljAFilChDAnh5lIwFw7zigqyUigkAAAAAAAAAAEBK/f///4oGAAAAAAD/dJSMAWOUj5QoSwFLApCMAWSUKJGUjAFllIwLY29sbGVjdGlvbnOUjAtPcmRlcmVkRGljdJSTlClSlIwBa5RLAXOMAWaUKYwBZ5RLAYWUjAFolEsBSwKGlIwBaZRLAUsCSwOHlIwBapRL/2gQTf//jAFslEr/////dS4=',
  ],
  [
    5,
    'gAWVvQAAAAAAAAB9lCiMAWGUXZQoSwFHQAQAAAAAAABOiIlljAFilChDAnh5lIwFw7zigqyUigkAAAAAAAAAAEBK/f///4oGAAAAAAD/dJSMAWOUj5QoSwFLApCMAWSUKJGUjAFllIwLY29sbGVjdGlvbnOUjAtPcmRlcmVkRGljdJSTlClSlIwBa5RLAXOMAWaUKYwBZ5RLAYWUjAFolEsBSwKGlIwBaZRLAUsCSwOHlIwBapRL/2gQTf//jAFslEr/////dS4=',
  ],
];

const EXPECTED = new Map<unknown, unknown>([
  ['a', [1, 2.5, null, true, false]],
  ['b', [new Uint8Array([0x78, 0x79]), 'ü€', 2n ** 70n, -3, -(2 ** 40)]],
  ['c', new Set([1, 2])],
  ['d', new Set()],
  ['e', new Map([['k', 1]])],
  ['f', []],
  ['g', [1]],
  ['h', [1, 2]],
  ['i', [1, 2, 3]],
  ['j', 255],
  ['k', 65535],
  ['l', -1],
]);

describe('pickle VM', () => {
  it.each(PICKLES)('reads protocol %i data exactly as Python wrote it', (_protocol, b64) => {
    const value = unpickle(Buffer.from(b64, 'base64'), { file: 'x.pkl', globals: TORCH_GLOBALS });
    expect(value).toEqual(EXPECTED);
  });

  it('refuses a persistent id outside a torch checkpoint and a truncated pickle', () => {
    const pid = Uint8Array.from([0x80, 0x02, 0x4b, 0x01, 0x51, 0x2e]); // PROTO 2, BININT1 1, BINPERSID, STOP
    expect(() => unpickle(pid, { file: 'x.pkl', globals: TORCH_GLOBALS })).toThrow(
      /x\.pkl: unsafe pickle: persistent id/,
    );
    const cut = Uint8Array.from([0x80, 0x02, 0x58, 0xff, 0, 0, 0, 0x61]); // BINUNICODE claiming 255 bytes
    expect(() => unpickle(cut, { file: 'x.pkl', globals: TORCH_GLOBALS })).toThrow(/truncated/);
  });
});
