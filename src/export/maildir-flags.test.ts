import { describe, expect, it } from 'vitest';
import { KeywordTable, flagsFromInfo, maildirInfo, maildirName } from './maildir-flags.js';
import { maildirFolderName } from './maildir-writer.js';

describe('maildir flags', () => {
  it('are capital letters in ASCII order: D F P R S T', () => {
    const info = (flags: string[]): string => maildirInfo(flags, new KeywordTable());
    expect(info([])).toBe('2,');
    expect(info(['\\Seen'])).toBe('2,S');
    expect(
      info(['\\Seen', '\\Deleted', '\\Answered', '$Forwarded', '\\Flagged', '\\Draft', '\\Recent']),
    ).toBe('2,DFPRST');
    expect(info(['\\seen', '\\ANSWERED', '$forwarded'])).toBe('2,PRS');
    expect(info(['\\Unknown'])).toBe('2,');
  });

  it('give keywords lower-case letters, listed in a dovecot-keywords file', () => {
    const table = new KeywordTable();
    expect(maildirInfo(['\\Seen', 'NonJunk', '$Label1'], table)).toBe('2,Sab');
    expect(maildirInfo(['$Label1', '\\Flagged'], table)).toBe('2,Fb');
    expect(maildirInfo(['$Label2', 'NonJunk'], table)).toBe('2,ac');
    expect(table.file()).toBe('0 NonJunk\n1 $Label1\n2 $Label2\n');
    expect(flagsFromInfo('2,FSac', table.file())).toEqual([
      '$Label2',
      'NonJunk',
      '\\Flagged',
      '\\Seen',
    ]);
  });

  it('leave out keywords beyond the 26 letters, and say which', () => {
    const table = new KeywordTable();
    const many = Array.from({ length: 28 }, (_, i) => `k${i}`);
    expect(maildirInfo(many, table)).toBe(`2,${'abcdefghijklmnopqrstuvwxyz'}`);
    expect([...table.dropped]).toEqual(['k26', 'k27']);
  });

  it('round-trip through file names', () => {
    const table = new KeywordTable();
    for (const flags of [
      [],
      ['\\Seen'],
      ['$Forwarded', '\\Seen'],
      ['$Label1', 'NonJunk', '\\Draft'],
      ['\\Deleted', '\\Seen'],
    ]) {
      const info = maildirInfo(flags, table);
      expect(flagsFromInfo(info, table.file())).toEqual([...flags].sort());
    }
  });

  it('name files uniquely, with the INTERNALDATE, size and flags', () => {
    const message = { uid: 42, internalDate: new Date('2024-05-06T07:08:09Z'), size: 1234 };
    expect(maildirName(message, 7, '2,RS')).toBe('1714979289.M7U42.mailvault,S=1234:2,RS');
  });

  it('map folders to Maildir++ directories', () => {
    expect(maildirFolderName('INBOX', '/')).toBe('');
    expect(maildirFolderName('Sent', '/')).toBe('.Sent');
    expect(maildirFolderName('Archive/2024', '/')).toBe('.Archive.2024');
    expect(maildirFolderName('Résumé & Co', '/')).toBe('.Résumé & Co');
    expect(maildirFolderName('v1.2/100%', '/')).toBe('.v1%2E2.100%25');
    expect(maildirFolderName('a/b.c', '.')).toBe('.a%2Fb.c');
    expect(maildirFolderName('INBOX/Sub', '/')).toBe('.INBOX.Sub');
  });
});
