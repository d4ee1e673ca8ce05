import { describe, expect, it } from 'vitest';
import { isSelected, targetPath } from './folder-mapping.js';

describe('where a folder is restored', () => {
  it("uses the target's hierarchy separator", () => {
    expect(targetPath({ path: 'Archive/2024/Q1', delimiter: '/' }, '.')).toBe('Archive.2024.Q1');
    expect(targetPath({ path: 'INBOX', delimiter: '/' }, '.')).toBe('INBOX');
  });

  it('puts the tree below another folder on request', () => {
    expect(targetPath({ path: 'Archive/2024', delimiter: '/' }, '/', 'Restored')).toBe(
      'Restored/Archive/2024',
    );
  });

  it('selects a named folder with its subfolders, and nothing that merely shares a prefix', () => {
    const wanted = ['Archive'];
    expect(isSelected({ path: 'Archive', delimiter: '/' }, wanted)).toBe(true);
    expect(isSelected({ path: 'Archive/2024', delimiter: '/' }, wanted)).toBe(true);
    expect(isSelected({ path: 'Archives', delimiter: '/' }, wanted)).toBe(false);
    expect(isSelected({ path: 'INBOX', delimiter: '/' }, ['inbox'])).toBe(true);
    expect(isSelected({ path: 'Sent', delimiter: '/' }, undefined)).toBe(true);
  });
});
