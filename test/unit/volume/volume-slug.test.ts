import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { MAX_SLUG_LENGTH, isVolumeSlug, validateVolumeSlug } from '../../../src/volume/volume-slug.js';
import { thrown } from '../../helpers/thrown.js';

describe('volume slugs', () => {
  it.each(['my-data', 'cache_2', 'A', '9lives', 'x'.repeat(MAX_SLUG_LENGTH)])('accepts %j', (slug) => {
    expect(isVolumeSlug(slug)).toBe(true);
    expect(validateVolumeSlug(slug)).toBe(slug);
  });

  it.each([
    ['', 'a volume name cannot be empty'],
    ['has spaces', "' ' is not allowed (only letters, digits, '-' and '_')"],
    ['has/slash', "'/' is not allowed"],
    ['dot.ted', "'.' is not allowed"],
    ['col:on', "':' is not allowed"],
    ['-flag', 'a volume name starts with a letter or digit'],
    ['_under', 'a volume name starts with a letter or digit'],
    ['..', 'a volume name starts with a letter or digit'],
    ['café', "'é' is not allowed"],
    ['x'.repeat(MAX_SLUG_LENGTH + 1), `at most ${MAX_SLUG_LENGTH} characters`],
    ['a\nb', "'\\x0a' is not allowed"],
  ])('rejects %j: %s', (slug, why) => {
    expect(isVolumeSlug(slug)).toBe(false);
    const err = thrown(() => validateVolumeSlug(slug));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(why);
    expect(err.hint).toContain('letters, digits, - and _');
  });
});
