import { describe, expect, it } from 'vitest';
import { parseAppendUid } from './wire-format.js';
import { parseStatus, ResponseReader, type ServerResponse } from './response-reader.js';

function read(...chunks: string[]): ServerResponse[] {
  const responses: ServerResponse[] = [];
  const reader = new ResponseReader((response) => responses.push(response));
  for (const chunk of chunks) reader.push(Buffer.from(chunk, 'latin1'));
  return responses;
}

describe('ResponseReader', () => {
  it('keeps a response whole when a literal in it spans several reads', () => {
    const responses = read('* LIST () "/" {12}\r\nWei', 'rd "name"\r\nW1 OK ', 'done\r\n');
    expect(responses).toEqual([
      { tag: '*', text: 'LIST () "/" {12}' },
      { tag: 'W1', text: 'OK done' },
    ]);
  });

  it('tells continuations, untagged and tagged responses apart', () => {
    expect(
      read('+ go ahead\r\n* 3 EXISTS\r\nW7 NO [TRYCREATE] no such folder\r\n').map((r) => r.tag),
    ).toEqual(['+', '*', 'W7']);
  });
});

describe('status responses', () => {
  it('separates status, response code and text', () => {
    expect(parseStatus('OK [APPENDUID 38505 3955:3957] APPEND completed')).toEqual({
      status: 'OK',
      code: 'APPENDUID 38505 3955:3957',
      detail: 'APPEND completed',
    });
    expect(parseStatus('no quota exceeded').status).toBe('NO');
  });

  it('expands APPENDUID sets in message order', () => {
    expect(parseAppendUid('APPENDUID 38505 3955:3957,3960')).toEqual([3955, 3956, 3957, 3960]);
    expect(parseAppendUid('APPENDUID 1 7')).toEqual([7]);
    expect(parseAppendUid('READ-WRITE')).toBeNull();
  });
});
